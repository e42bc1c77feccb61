// A real rh API server for unit tests that drive the REST client (test-only
// helper): a SQLite store and a local blob store in `dir`, served from a
// thread of this process on a free loopback port. stop() (or destruction)
// stops the server and closes its store; every write it acknowledged is on
// disk by then, so a new ApiServer on the same folder sees it.
#pragma once

#include <memory>
#include <string>

namespace rh {
class BlobStore;
class Env;
class MetadataStore;
}  // namespace rh

namespace rh::testing {

class ApiServer {
 public:
  // Throws std::runtime_error when the store cannot open or the port bind.
  ApiServer(const std::string& dir, Env& env);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT
  MetadataStore& store();   // the server's own store, behind the API
  BlobStore& blobs();       // the server's own blob store, behind the API
  void stop();              // idempotent

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace rh::testing

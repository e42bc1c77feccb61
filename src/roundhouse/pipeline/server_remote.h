// An `rh server` as a pipeline remote: each cached object is stored as a
// blob (named by its SHA-256, so content the server already holds — a
// dataset's files, an artifact — is not sent again) and its md5 name is
// recorded as an alias of that blob (BlobAliases), after the blob is
// stored. Only names the server lacks are hashed and sent; a fetched object
// is checked against its md5 name as any other (remote.h).
#pragma once

#include <memory>

#include "roundhouse/pipeline/remote.h"

namespace rh {
class BlobStore;
class MetadataStore;
}  // namespace rh

namespace rh::pipeline {

// `url` only describes it; the stores (the server's, over its API) must
// outlive the remote.
std::unique_ptr<ObjectRemote> server_remote(const std::string& url, MetadataStore& store,
                                            BlobStore& blobs);

}  // namespace rh::pipeline

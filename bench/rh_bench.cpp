// Load generator and probes for bench/run.sh (not a test: it prints figures).
//
//   rh_bench populate DATA_DIR TASKS            tasks with one metric each, straight into SQLite
//   rh_bench query URL QUERY_STRING REPS        GET /api/v1/tasks?QUERY_STRING, median ms
//   rh_bench ingest URL TASK CLIENTS BATCH SECONDS binary|json
//   rh_bench series URL TASK POINTS REPS        write a POINTS-long series, time downsampled reads
//   rh_bench list URL ORDER_BY LIMIT REPS       time the first page of the task list
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "roundhouse/api/scalar_body.h"
#include "roundhouse/client/http_client.h"
#include "roundhouse/env/env.h"
#include "roundhouse/store/sqlite/sqlite_store.h"

using namespace rh;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int die(const std::string& msg) {
  std::fprintf(stderr, "rh_bench: %s\n", msg.c_str());
  return 1;
}

std::string json_body(const ScalarSeries& s) {
  std::string out = "{\"series\":[{\"title\":\"" + s.title + "\",\"series\":\"" + s.series +
                    "\",\"iterations\":[";
  for (size_t i = 0; i < s.steps.size(); ++i)
    out += (i ? "," : "") + std::to_string(s.steps[i]);
  out += "],\"values\":[";
  char buf[32];
  for (size_t i = 0; i < s.values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.17g", s.values[i]);
    out += (i ? "," : "") + std::string(buf);
  }
  out += "],\"times\":[";
  for (size_t i = 0; i < s.times.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.17g", s.times[i]);
    out += (i ? "," : "") + std::string(buf);
  }
  return out + "]}]}";
}

int populate(const std::string& dir, int n) {
  RealEnv env;
  auto store = open_sqlite_store(dir + "/rh.db", env);
  if (!store)
    return die(store.error().to_string());
  auto t0 = Clock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&] {
      while (true) {
        int i = next++;
        if (i >= n)
          break;
        NewTask t;
        t.project = "bench";
        t.name = "task " + std::to_string(i);
        t.hyperparameters = {{"Args", "lr", std::to_string(0.001 * (i % 100)), "float", ""}};
        auto task = (*store)->tasks().create(t);
        if (!task)
          continue;
        double acc = std::fmod(i * 0.6180339887, 1.0);
        (void)(*store)->scalars().append(task->id, {ScalarSeries{"acc", "val", {0}, {acc}, {}}});
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::printf("populated %d tasks in %.1f s\n", n, seconds_since(t0));
  (*store)->close();
  return 0;
}

int ingest(const std::string& url, const std::string& task, int clients, int batch, double secs,
           const std::string& format) {
  std::atomic<long long> points{0};
  std::atomic<int> failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient http(url, std::getenv("RH_API_TOKEN") ? std::getenv("RH_API_TOKEN") : "");
      int64_t step = 0;
      while (seconds_since(t0) < secs) {
        ScalarSeries s{"loss", "client" + std::to_string(c), {}, {}, {}};
        s.steps.reserve(batch);
        for (int i = 0; i < batch; ++i) {
          s.steps.push_back(step++);
          s.values.push_back(std::sin(double(step) / 1000.0));
          s.times.push_back(1.7e9 + double(step) / 1000.0);
        }
        bool binary = format == "binary";
        std::string body = binary ? api::encode_scalar_binary({s}) : json_body(s);
        auto r = http.call("POST", "/api/v1/tasks/" + task + "/scalars", body,
                           binary ? "application/x-rh-scalars" : "application/json");
        if (r) {
          points += batch;
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  double el = seconds_since(t0);
  std::printf("{\"points_per_s\": %.0f, \"points\": %lld, \"seconds\": %.2f, \"failures\": %d}\n",
              double(points) / el, points.load(), el, failures.load());
  return failures ? 1 : 0;
}

int series(const std::string& url, const std::string& task, int n, int reps) {
  HttpClient http(url, "");
  for (int base = 0; base < n; base += 10000) {
    ScalarSeries s{"big", "series", {}, {}, {}};
    for (int i = base; i < std::min(n, base + 10000); ++i) {
      s.steps.push_back(i);
      s.values.push_back(std::sin(i / 5000.0) + (i % 7919 == 0 ? 5 : 0));
      s.times.push_back(1.7e9 + i);
    }
    auto r = http.call("POST", "/api/v1/tasks/" + task + "/scalars", api::encode_scalar_binary({s}),
                       "application/x-rh-scalars");
    if (!r)
      return die(r.error().to_string());
  }
  std::vector<double> down, full;
  size_t down_bytes = 0, full_bytes = 0, down_points = 0;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    auto r = http.call(
        "GET", "/api/v1/tasks/" + task + "/scalars/series?title=big&series=series&max_points=2000");
    down.push_back(seconds_since(t0) * 1000);
    if (!r)
      return die(r.error().to_string());
    down_bytes = r->size();
    down_points = nlohmann::json::parse(*r)["values"].size();
  }
  for (int i = 0; i < std::max(1, reps / 5); ++i) {
    auto t0 = Clock::now();
    auto r = http.call("GET", "/api/v1/tasks/" + task + "/scalars/series?title=big&series=series");
    full.push_back(seconds_since(t0) * 1000);
    if (!r)
      return die(r.error().to_string());
    full_bytes = r->size();
  }
  std::printf(
      "{\"downsampled_ms\": %.2f, \"downsampled_points\": %zu, \"downsampled_bytes\": %zu, "
      "\"full_ms\": %.1f, \"full_bytes\": %zu}\n",
      median(down), down_points, down_bytes, median(full), full_bytes);
  return 0;
}

int list(const std::string& url, const std::string& order_by, int limit, int reps) {
  HttpClient http(url, "");
  std::vector<double> ms;
  size_t count = 0;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    auto r = http.call("GET", "/api/v1/tasks?limit=" + std::to_string(limit) +
                                  "&order_by=" + url_encode(order_by));
    ms.push_back(seconds_since(t0) * 1000);
    if (!r)
      return die(r.error().to_string());
    count = nlohmann::json::parse(*r)["tasks"].size();
  }
  std::printf("{\"first_page_ms\": %.2f, \"tasks\": %zu}\n", median(ms), count);
  return 0;
}

// Times GET /api/v1/tasks?QS, the request the UI's task table makes.
int query(const std::string& url, const std::string& qs, int reps) {
  HttpClient http(url, "");
  std::vector<double> ms;
  size_t count = 0;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    auto r = http.call("GET", "/api/v1/tasks?" + qs);
    ms.push_back(seconds_since(t0) * 1000);
    if (!r)
      return die(r.error().to_string());
    count = nlohmann::json::parse(*r)["tasks"].size();
  }
  std::sort(ms.begin(), ms.end());
  std::printf("{\"median_ms\": %.2f, \"max_ms\": %.2f, \"tasks\": %zu}\n", median(ms), ms.back(),
              count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "populate")
    return populate(a[1], std::stoi(a[2]));
  if (a.size() == 7 && a[0] == "ingest") {
    return ingest(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]), std::stod(a[5]), a[6]);
  }
  if (a.size() == 5 && a[0] == "series")
    return series(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]));
  if (a.size() == 4 && a[0] == "query")
    return query(a[1], a[2], std::stoi(a[3]));
  if (a.size() == 5 && a[0] == "list")
    return list(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]));
  return die("usage: see the comment at the top of bench/rh_bench.cpp");
}

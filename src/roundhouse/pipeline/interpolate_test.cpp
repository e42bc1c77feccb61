#include "roundhouse/pipeline/interpolate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rh::pipeline {
namespace {

const Json k_vars = Json::parse(R"({
  "train": {"lr": 0.001, "epochs": 10, "big": 100.0, "tiny": 1e-05, "name": "my model",
            "on": true, "off": false, "none": null, "layers": [64, 32], "huge": 1e16},
  "models": ["a", "b"],
  "flags": {"lr": 0.1, "verbose": true, "quiet": false, "tag": "x y", "dims": [1, 2],
            "sub": {"depth": 3}}
})");

std::string text(const std::string& s, const std::string& field = "cmd") {
  auto r = resolve(Json(s), k_vars, field);
  EXPECT_TRUE(r) << r.error().message;
  return r && r->is_string() ? r->get<std::string>() : "<" + (r ? r->dump() : "error") + ">";
}

TEST(Interpolate, ValuesAreWrittenAsPythonWritesThem) {
  EXPECT_EQ(text("python train.py --lr ${train.lr} --epochs ${train[epochs]}"),
            "python train.py --lr 0.001 --epochs 10");
  EXPECT_EQ(text("${train.big} ${train.tiny} ${train.huge} ${train.on} ${train.none}x"),
            "100.0 1e-05 1e+16 true Nonex");
  EXPECT_EQ(text("${models[1]} ${models.0} ${train.layers[0]}"), "b a 64");
  EXPECT_EQ(text("a \\${literal} ${train.epochs}"), "a ${literal} 10");
  EXPECT_EQ(text("no vars \\${here}"), "no vars ${here}");
}

TEST(Interpolate, AWholeFieldKeepsItsType) {
  EXPECT_EQ(resolve(Json("${train.epochs}"), k_vars, "outs").value(), Json(10));
  EXPECT_EQ(resolve(Json("${train.on}"), k_vars, "frozen").value(), Json(true));
  EXPECT_EQ(resolve(Json("${train.lr}"), k_vars, "deps").value(), Json(0.001));
  // Lists and dicts nest: each string resolved.
  EXPECT_EQ(
      resolve(Json::parse(R"(["m/${models[0]}.pt", {"p": "${train.epochs}"}])"), k_vars, "outs")
          .value(),
      Json::parse(R"(["m/a.pt", {"p": 10}])"));
}

TEST(Interpolate, ADictInCmdBecomesFlags) {
  EXPECT_EQ(text("python train.py ${flags}"),
            "python train.py --dims 1 2 --lr 0.1 --sub.depth 3 --tag 'x y' --verbose");
}

TEST(Interpolate, ErrorsNameTheProblem) {
  auto missing = resolve(Json("${train.nope}"), k_vars, "cmd");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "Could not find 'train.nope'");
  auto list = resolve(Json("x ${models}"), k_vars, "cmd");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message, "Cannot interpolate data of type 'list'");
  auto dict = resolve(Json("${flags}"), k_vars, "outs");
  ASSERT_FALSE(dict);
  EXPECT_EQ(dict.error().message, "Cannot interpolate data of type 'dict'");
  // foreach takes lists and dicts whole.
  EXPECT_EQ(resolve(Json("${models}"), k_vars, "foreach").value(), Json::parse(R"(["a","b"])"));
}

TEST(Interpolate, PythonStrOfFloats) {
  EXPECT_EQ(python_str(Json(0.1)), "0.1");
  EXPECT_EQ(python_str(Json(1.0)), "1.0");
  EXPECT_EQ(python_str(Json(123456.5)), "123456.5");
  EXPECT_EQ(python_str(Json(1e-4)), "0.0001");
  EXPECT_EQ(python_str(Json(-2.5e-7)), "-2.5e-07");
  EXPECT_EQ(python_str(Json(1.5e300)), "1.5e+300");
  EXPECT_EQ(python_str(Json(1e15)), "1000000000000000.0");
}

}  // namespace
}  // namespace rh::pipeline

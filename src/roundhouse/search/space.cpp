#include "roundhouse/search/space.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace rh::search {

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(m_gen);
}

double Rng::uniform(double lo, double hi) {
  if (hi <= lo)
    return lo;
  return std::uniform_real_distribution<double>(lo, hi)(m_gen);
}

std::string Rng::save() const {
  std::ostringstream out;
  out << m_gen;
  return out.str();
}

Status Rng::load(const std::string& text) {
  std::istringstream in(text);
  in >> m_gen;
  if (in.fail())
    return make_error(ErrorCode::corrupt, "the saved random state of a search does not read back");
  return {};
}

namespace {

Json sample_one(const Hyperparameter& h, Rng& rng) {
  switch (h.kind) {
    case Hyperparameter::Kind::constant:
      return h.value;
    case Hyperparameter::Kind::integer:
      return rng.uniform_int(static_cast<int64_t>(h.minval), static_cast<int64_t>(h.maxval));
    case Hyperparameter::Kind::real:
      return rng.uniform(h.minval, h.maxval);
    case Hyperparameter::Kind::log:
      return std::pow(h.base, rng.uniform(h.minval, h.maxval));
    case Hyperparameter::Kind::categorical:
      return h
          .vals[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(h.vals.size()) - 1))];
    case Hyperparameter::Kind::nested:
      return sample(h.nested, rng);
  }
  return nullptr;
}

struct AxisValue {
  std::vector<std::string> route;
  Json value;
};
using Axis = std::vector<AxisValue>;

void axes_of(const std::vector<std::string>& route, const Hyperparameter& h,
             std::vector<Axis>& out) {
  Axis axis;
  switch (h.kind) {
    case Hyperparameter::Kind::constant:
      axis.push_back({route, h.value});
      break;
    case Hyperparameter::Kind::integer: {
      auto lo = static_cast<int64_t>(h.minval), hi = static_cast<int64_t>(h.maxval);
      int64_t count = std::min(h.count.value_or(1), hi - lo + 1);
      if (count == 1) {
        axis.push_back({route, static_cast<int64_t>(std::round(double(lo + hi) / 2.0))});
      } else {
        for (int64_t i = 0; i < count; ++i) {
          double v = double(lo) + double(i * (hi - lo)) / double(count - 1);
          axis.push_back({route, static_cast<int64_t>(std::round(v))});
        }
      }
      break;
    }
    case Hyperparameter::Kind::real:
    case Hyperparameter::Kind::log: {
      int64_t count = h.count.value_or(1);
      auto point = [&](double x) {
        return h.kind == Hyperparameter::Kind::log ? std::pow(h.base, x) : x;
      };
      if (count == 1) {
        axis.push_back({route, point((h.minval + h.maxval) / 2.0)});
      } else {
        for (int64_t i = 0; i < count; ++i) {
          axis.push_back(
              {route, point(h.minval + double(i) * (h.maxval - h.minval) / double(count - 1))});
        }
      }
      break;
    }
    case Hyperparameter::Kind::categorical:
      for (const auto& v : h.vals)
        axis.push_back({route, v});
      break;
    case Hyperparameter::Kind::nested:
      if (h.nested.empty()) {
        axis.push_back({route, Json::object()});
        break;
      }
      for (const auto& [name, sub] : h.nested) {
        auto r = route;
        r.push_back(name);
        axes_of(r, sub, out);
      }
      return;
  }
  out.push_back(std::move(axis));
}

void apply(Json& sample, const std::vector<std::string>& route, size_t i, const Json& v) {
  if (i + 1 == route.size()) {
    sample[route[i]] = v;
    return;
  }
  Json& sub = sample[route[i]];
  if (!sub.is_object())
    sub = Json::object();
  apply(sub, route, i + 1, v);
}

Status check_one(const Hyperparameter& h, const std::string& where) {
  bool numeric = h.kind == Hyperparameter::Kind::integer || h.kind == Hyperparameter::Kind::real ||
                 h.kind == Hyperparameter::Kind::log;
  if (numeric && !h.count) {
    return make_error(ErrorCode::invalid_argument,
                      where + ": a grid search needs `count` (how many values to try)");
  }
  if (numeric && *h.count < 1)
    return make_error(ErrorCode::invalid_argument, where + ".count must be at least 1");
  if (h.kind == Hyperparameter::Kind::nested)
    return check_grid(h.nested, where);
  return {};
}

}  // namespace

namespace {

double normal(Rng& rng) {  // Box-Muller from the saved generator
  double u1 = rng.uniform(1e-12, 1.0), u2 = rng.uniform(0.0, 1.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

Json perturb_one(const Hyperparameter& h, const Json& from, Rng& rng, double scale) {
  double span = h.maxval - h.minval;
  switch (h.kind) {
    case Hyperparameter::Kind::integer: {
      if (!from.is_number())
        return sample_one(h, rng);
      double v = from.get<double>() + normal(rng) * scale * span;
      return static_cast<int64_t>(std::round(std::clamp(v, h.minval, h.maxval)));
    }
    case Hyperparameter::Kind::real: {
      if (!from.is_number())
        return sample_one(h, rng);
      return std::clamp(from.get<double>() + normal(rng) * scale * span, h.minval, h.maxval);
    }
    case Hyperparameter::Kind::log: {
      if (!from.is_number() || from.get<double>() <= 0)
        return sample_one(h, rng);
      double e = std::log(from.get<double>()) / std::log(h.base) + normal(rng) * scale * span;
      return std::pow(h.base, std::clamp(e, h.minval, h.maxval));
    }
    case Hyperparameter::Kind::categorical:
      return rng.uniform(0.0, 1.0) < 0.75 ? from : sample_one(h, rng);
    case Hyperparameter::Kind::nested:
      return perturb(h.nested, from.is_object() ? from : Json::object(), rng, scale);
    case Hyperparameter::Kind::constant:
      return h.value;
  }
  return nullptr;
}

}  // namespace

Json perturb(const Space& space, const Json& from, Rng& rng, double scale) {
  Json out = Json::object();
  for (const auto& [name, h] : space)
    out[name] = perturb_one(h, from.contains(name) ? from.at(name) : Json(), rng, scale);
  return out;
}

Json sample(const Space& space, Rng& rng) {
  Json out = Json::object();
  for (const auto& [name, h] : space)
    out[name] = sample_one(h, rng);
  return out;
}

std::vector<Json> grid(const Space& space) {
  std::vector<Axis> axes;
  for (const auto& [name, h] : space)
    axes_of({name}, h, axes);
  if (axes.empty())
    return {};
  for (const auto& axis : axes) {
    if (axis.empty())  // a categorical with no values: no point at all
      return {};
  }
  // Odometer over the axes: the last axis varies fastest.
  std::vector<size_t> at(axes.size(), 0);
  std::vector<Json> out;
  while (true) {
    Json s = Json::object();
    for (size_t a = 0; a < axes.size(); ++a)
      apply(s, axes[a][at[a]].route, 0, axes[a][at[a]].value);
    out.push_back(std::move(s));
    size_t a = axes.size();
    while (a > 0) {
      --a;
      if (++at[a] < axes[a].size())
        break;
      at[a] = 0;
      if (a == 0)
        return out;
    }
  }
}

Status check_grid(const Space& space, const std::string& where) {
  for (const auto& [name, h] : space)
    RH_TRY(check_one(h, where + "." + name));
  return {};
}

}  // namespace rh::search

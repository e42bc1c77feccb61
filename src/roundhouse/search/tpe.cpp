#include "roundhouse/search/tpe.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rh::search {

namespace {

double normal(Rng& rng) {
  double u1 = std::max(rng.uniform(0.0, 1.0), 1e-300), u2 = rng.uniform(0.0, 1.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double phi(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

// A mixture of Gaussians truncated to [lo, hi], plus the uniform prior.
struct Parzen {
  double lo = 0, hi = 1;
  std::vector<double> mu, sigma;
  double prior_weight = 1;  // the prior's share is prior_weight / (n + prior_weight)

  static Parzen fit(std::vector<double> xs, double lo, double hi) {
    Parzen p;
    p.lo = lo;
    p.hi = hi;
    double span = std::max(hi - lo, 1e-12);
    std::sort(xs.begin(), xs.end());
    size_t n = xs.size();
    // Each kernel as wide as its larger gap to a neighbour (the ends to
    // the range's bounds), kept within [span / min(100, n + 1), span].
    double min_sigma = span / double(std::min<size_t>(100, n + 1));
    for (size_t i = 0; i < n; ++i) {
      double left = xs[i] - (i ? xs[i - 1] : lo), right = (i + 1 < n ? xs[i + 1] : hi) - xs[i];
      p.mu.push_back(xs[i]);
      p.sigma.push_back(std::clamp(std::max(left, right), min_sigma, span));
    }
    return p;
  }
  double total() const { return double(mu.size()) + prior_weight; }
  double draw(Rng& rng) const {
    double pick = rng.uniform(0.0, total());
    if (pick >= double(mu.size()))
      return rng.uniform(lo, hi);
    size_t i = size_t(pick);
    for (int tries = 0; tries < 64; ++tries) {
      double x = mu[i] + sigma[i] * normal(rng);
      if (x >= lo && x <= hi)
        return x;
    }
    return std::clamp(mu[i], lo, hi);
  }
  double log_pdf(double x) const {
    double span = std::max(hi - lo, 1e-12);
    double p = prior_weight / span;
    for (size_t i = 0; i < mu.size(); ++i) {
      double z = (x - mu[i]) / sigma[i];
      double mass = phi((hi - mu[i]) / sigma[i]) - phi((lo - mu[i]) / sigma[i]);
      p += std::exp(-0.5 * z * z) /
           (sigma[i] * std::sqrt(2 * std::numbers::pi) * std::max(mass, 1e-12));
    }
    return std::log(p / total());
  }
};

// The value of `h` in the space the densities work in (log: the exponent).
bool to_axis(const Hyperparameter& h, const Json& v, double& out) {
  if (!v.is_number())
    return false;
  double x = v.get<double>();
  if (h.kind == Hyperparameter::Kind::log) {
    if (x <= 0)
      return false;
    x = std::log(x) / std::log(h.base);
  }
  out = x;
  return true;
}

Json from_axis(const Hyperparameter& h, double x) {
  switch (h.kind) {
    case Hyperparameter::Kind::integer:
      return static_cast<int64_t>(std::clamp(std::round(x), h.minval, h.maxval));
    case Hyperparameter::Kind::log:
      return std::pow(h.base, x);
    default:
      return x;
  }
}

Json pick(const Hyperparameter& h, const std::vector<const Json*>& good,
          const std::vector<const Json*>& bad, Rng& rng, int candidates);

Json pick_space(const Space& space, const std::vector<const Json*>& good,
                const std::vector<const Json*>& bad, Rng& rng, int candidates) {
  Json out = Json::object();
  for (const auto& [name, h] : space) {
    std::vector<const Json*> g, b;
    for (const Json* j : good)
      g.push_back(j && j->is_object() && j->contains(name) ? &j->at(name) : nullptr);
    for (const Json* j : bad)
      b.push_back(j && j->is_object() && j->contains(name) ? &j->at(name) : nullptr);
    out[name] = pick(h, g, b, rng, candidates);
  }
  return out;
}

Json pick(const Hyperparameter& h, const std::vector<const Json*>& good,
          const std::vector<const Json*>& bad, Rng& rng, int candidates) {
  switch (h.kind) {
    case Hyperparameter::Kind::constant:
      return h.value;
    case Hyperparameter::Kind::nested:
      return pick_space(h.nested, good, bad, rng, candidates);
    case Hyperparameter::Kind::categorical: {
      size_t k = h.vals.size();
      std::vector<double> wl(k, 1.0), wg(k, 1.0);  // the prior: one of each
      auto count = [&](const std::vector<const Json*>& js, std::vector<double>& w) {
        for (const Json* j : js) {
          auto it = j ? std::find(h.vals.begin(), h.vals.end(), *j) : h.vals.end();
          if (it != h.vals.end())
            w[size_t(it - h.vals.begin())] += 1;
        }
      };
      count(good, wl);
      count(bad, wg);
      double sl = 0, sg = 0;
      for (size_t i = 0; i < k; ++i) {
        sl += wl[i];
        sg += wg[i];
      }
      size_t best = 0;
      double best_score = -INFINITY;
      for (int c = 0; c < candidates; ++c) {
        double r = rng.uniform(0.0, sl);
        size_t i = 0;
        while (i + 1 < k && r >= wl[i])
          r -= wl[i++];
        double score = std::log(wl[i] / sl) - std::log(wg[i] / sg);
        if (score > best_score) {
          best_score = score;
          best = i;
        }
      }
      return h.vals[best];
    }
    case Hyperparameter::Kind::integer:
    case Hyperparameter::Kind::real:
    case Hyperparameter::Kind::log: {
      double lo = h.minval, hi = h.maxval;
      if (h.kind == Hyperparameter::Kind::integer) {
        lo -= 0.5;  // each integer owns its unit around it
        hi += 0.5;
      }
      auto xs = [&](const std::vector<const Json*>& js) {
        std::vector<double> out;
        for (const Json* j : js) {
          double x;
          if (j && to_axis(h, *j, x))
            out.push_back(std::clamp(x, lo, hi));
        }
        return out;
      };
      Parzen l = Parzen::fit(xs(good), lo, hi), g = Parzen::fit(xs(bad), lo, hi);
      double best = l.draw(rng), best_score = -INFINITY;
      for (int c = 0; c < candidates; ++c) {
        double x = c == 0 ? best : l.draw(rng);
        double score = l.log_pdf(x) - g.log_pdf(x);
        if (score > best_score) {
          best_score = score;
          best = x;
        }
      }
      return from_axis(h, best);
    }
  }
  return nullptr;
}

}  // namespace

Json tpe_sample(const Space& space, const std::vector<Observation>& observed, Rng& rng,
                size_t startup, int candidates) {
  if (observed.size() < startup)
    return sample(space, rng);
  std::vector<const Observation*> order;
  for (const auto& o : observed)
    order.push_back(&o);
  std::stable_sort(order.begin(), order.end(),
                   [](const Observation* a, const Observation* b) { return a->loss < b->loss; });
  size_t n_good = std::min<size_t>(size_t(std::ceil(0.1 * double(order.size()))), 25);
  std::vector<const Json*> good, bad;
  for (size_t i = 0; i < order.size(); ++i)
    (i < n_good ? good : bad).push_back(&order[i]->hparams);
  return pick_space(space, good, bad, rng, candidates);
}

}  // namespace rh::search

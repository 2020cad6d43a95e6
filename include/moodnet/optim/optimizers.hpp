#pragma once
// The registered optimizers: name -> update rule. Adding one is its UpdateRule header (update_rule.hpp),
// its kernel and one line in the table below; the trainers' --optimizer choices come from this table.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/optim/adam.hpp"
#include "moodnet/optim/optimizer_config.hpp"
#include "moodnet/optim/sgd.hpp"
#include "moodnet/optim/update_rule.hpp"

namespace moodnet {

template <class T>
struct OptimizerEntry {
  std::string name;
  std::function<std::unique_ptr<UpdateRule<T>>(const OptimizerConfig&)> make;
};

template <class T>
inline const std::vector<OptimizerEntry<T>>& optimizer_registry() {
  static const std::vector<OptimizerEntry<T>> table = {
      {"sgd", [](const OptimizerConfig& c) { return std::make_unique<Sgd<T>>(c); }},
      {"adam", [](const OptimizerConfig& c) { return std::make_unique<Adam<T>>(c, false); }},
      {"adamw", [](const OptimizerConfig& c) { return std::make_unique<Adam<T>>(c, true); }},
  };
  return table;
}

// The registered names, in table order.
inline std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& e : optimizer_registry<float>()) names.push_back(e.name);
  return names;
}

// Throws unless `name` is registered: "unknown optimizer 'x' (expected sgd, adam or adamw)".
inline void check_optimizer_name(const std::string& name) {
  const std::vector<std::string> names = optimizer_names();
  for (const auto& n : names)
    if (n == name) return;
  std::string expected;
  for (std::size_t i = 0; i < names.size(); ++i)
    expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  fail("unknown optimizer '", name, "' (expected ", expected, ")");
}

template <class T>
inline std::unique_ptr<UpdateRule<T>> make_update_rule(const OptimizerConfig& c) {
  check_optimizer_name(c.name);
  for (const auto& e : optimizer_registry<T>())
    if (e.name == c.name) return e.make(c);
  fail("unknown optimizer '", c.name, "'");
}

}  // namespace moodnet

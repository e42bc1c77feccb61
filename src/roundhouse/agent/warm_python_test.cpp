#include "roundhouse/agent/warm_python.h"

#include <gtest/gtest.h>

namespace rh::agent {
namespace {

using V = std::vector<std::string>;

TEST(WarmPython, OnlyPlainPythonEntryPointsGoThroughIt) {
  EXPECT_EQ(plain_python_argv({"sh", "-c", "python3 train.py --lr=0.1  x"}),
            (V{"python3", "train.py", "--lr=0.1", "x"}));
  EXPECT_EQ(plain_python_argv({"sh", "-c", "python -m pkg.main --a 1"}),
            (V{"python", "-m", "pkg.main", "--a", "1"}));
  EXPECT_EQ(plain_python_argv({"python3.11", "t.py"}), (V{"python3.11", "t.py"}));
  EXPECT_EQ(plain_python_argv({"/venv/bin/python3", "t.py"}), (V{"/venv/bin/python3", "t.py"}));
  for (const char* shell :
       {"python3 train.py | tee log", "python3 train.py && echo done", "A=1 python3 train.py",
        "python3 train.py \"a b\"", "python3 $SCRIPT", "python3 t.py > out", "cd x; python3 t.py",
        "python3 -c 'print(1)'", "python3 -u t.py", "python3 train", "python3", "bash run.sh",
        "python3 t*.py", "pythonista t.py"})
    EXPECT_FALSE(plain_python_argv({"sh", "-c", shell})) << shell;
  EXPECT_FALSE(plain_python_argv({"python3", "-m"}));
  EXPECT_FALSE(plain_python_argv({"python3", "-m", "-x"}));
}

}  // namespace
}  // namespace rh::agent

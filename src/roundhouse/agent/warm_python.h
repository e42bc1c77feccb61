// Warm interpreters for trials. A trial's entry point that is a plain
// `python[3[.X]] SCRIPT.py ARGS...` or `python -m MODULE ARGS...` runs in a
// child forked from a Python process that has already imported what the
// entry point imports from installed packages (torch, numpy, ...:
// python/roundhouse/_zygote.py), so a trial starts in milliseconds instead
// of paying for the interpreter and those imports. The supervisor runs the
// relay (`rh trial-relay SOCKET -- ARGV...`) in place of the command: it
// hands the zygote its stdio, metrics descriptor, environment, working
// folder and process group, waits for the child and ends the way it ended.
// When the zygote is not up yet (it starts on the first such trial and
// warms in the background) or went away, the relay runs the command itself:
// a cold start, never a failure.
//
// One zygote per agent, for the latest (interpreter, entry point, context,
// PYTHONPATH); another key replaces it. Not thread-safe: the agent's task
// loop uses it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rh::agent {

// The argv of a plain Python entry point (`sh -c "python3 x.py --a 1"` or
// the list itself), else nullopt: anything the shell must interpret (pipes,
// quotes, variables, redirections, several commands) runs as it is.
std::optional<std::vector<std::string>> plain_python_argv(const std::vector<std::string>& argv);

class WarmPython {
 public:
  // dir: where the socket lives; relay_exe: the rh binary.
  WarmPython(std::string dir, std::string relay_exe);
  ~WarmPython();  // stops the zygote
  WarmPython(const WarmPython&) = delete;
  WarmPython& operator=(const WarmPython&) = delete;

  // What to run instead of argv (the relay), or argv itself when it is no
  // plain Python entry point. env: the trial's whole environment (its PATH
  // finds the interpreter); context_dir: the unpacked context, read for
  // the imports; key: what else makes an environment (the context digest).
  std::vector<std::string> wrap(const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, const std::string& context_dir,
                                const std::string& key,
                                const std::function<void(const std::string&)>& note);
  void stop();

 private:
  std::string m_dir, m_relay;
  std::string m_key, m_socket;
  pid_t m_pid = -1;
  int m_serial = 0;
};

// The relay's own main: connects to the zygote at socket_path and runs argv
// there, else execs argv. Returns an exit code (or does not return).
int relay_trial(const std::string& socket_path, const std::vector<std::string>& argv);

}  // namespace rh::agent

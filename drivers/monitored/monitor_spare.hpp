// Spare monitors: one drover-monitor per monitor binary started ahead of need, waiting for a
// task (monitor/README.md, "Spares").
//
// On the slower 2-core machine of 2026-12-05 a raw_exec start made two processes where a bare
// fork/exec makes one: the monitor (posix_spawn, exec, its start-up) and the task. A spare
// takes the first off the start: the driver sends it the flags it would have been started
// with and the status pipe (and env memfd) over a socket, and it goes on from there as a
// freshly spawned monitor would. Afterwards another spare is made on a thread of this plugin,
// off the start. The first start of each monitor binary is a cold one, as is any start that
// finds no spare ready (a burst), or one that is dead; spares are only made after a first
// start, so none exists before the agent has set up its own cgroup (on v2 under systemd it
// moves itself into a leaf first: docs/cgroups.md, "Layout").
//
// A spare is this process's child in a session of its own, reaped like any monitor
// (monitor_reaper.hpp), and ends when its socket closes: at the plugin's unload, or when the
// agent exits or is killed, whoever then holds it.
#pragma once

#include <string>
#include <vector>

namespace drover::monitored {

// Hands a start to a spare of args[0], if one is ready: args[1..] are its flags, and fds go
// to its fds 3, 4, ... in order. false when none could take it (the caller spawns a monitor
// itself); either way the caller still owns and closes fds.
bool start_on_spare(const std::vector<std::string>& args, const std::vector<int>& fds);

// Asks for a spare of this monitor binary to be made, on the plugin's spare thread: returns
// at once.
void keep_spare(const std::string& monitor_path);

}  // namespace drover::monitored

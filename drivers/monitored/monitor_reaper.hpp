// Waits for the task monitors this plugin started, so that none stays a zombie.
//
// A monitor used to leave the agent's process tree with a fork of its own (--detach): the
// process the driver spawned forked and exited at once, and the driver waited for that exit.
// On the slower 2-core machine of 2026-12-05 that fork, its exit and the wait were ~1.5 ms of
// every raw_exec start (bench/results/2026-12-05-monitor-child.md). The monitor now stays the
// agent's child, in a session of its own, while the agent runs; when the agent exits or is
// killed it passes to init (or the nearest subreaper) like any orphan, and the task with it.
// While the agent runs, one thread per plugin holds a pidfd of each monitor in an epoll set
// and waits for it as it ends. A kernel without pidfd_open (< 5.3) keeps the detach fork.
#pragma once

#include <sys/types.h>

namespace drover::monitored {

// Whether monitors can be started as children and reaped here (pidfd_open works).
bool can_reap_monitors();

// Makes the reaping thread now if it is not yet made. An object that hands monitors to the
// reaper from a thread of its own calls this in its constructor, so that the reaper, made
// first, is destroyed after it.
void start_reaper();

// Takes on waiting for `pid`, a child of this process, once it ends.
void reap_when_done(pid_t pid);

}  // namespace drover::monitored

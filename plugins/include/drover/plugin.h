/* drover's plugin ABI: the one contract between the agent and a driver or device plugin.
 *
 * Plain C (structs, function pointers, JSON strings) so that the ABI stays stable across
 * compilers and a plugin can be written in C, C++, Rust or Go. docs/plugins.md explains it
 * with an example; this header is the reference.
 *
 * Handshake. A plugin is a shared object that exports one function, DROVER_PLUGIN_ENTRY
 * ("drover_plugin_entry"), returning a pointer to a static drover_plugin. The agent reads
 * `abi_version` FIRST and refuses the plugin (naming both versions) when it differs from its
 * own DROVER_PLUGIN_ABI_VERSION; only then does it read any other field. The first three
 * fields (abi_version, name, version) keep their place in every future ABI version so that a
 * refusal can always name the plugin.
 *
 * Ownership.
 *  - Everything reachable from the drover_plugin returned by the entry (the struct itself, the
 *    name and version strings, the vtables) is owned by the plugin and stays valid until the
 *    agent dlcloses it. The agent never frees or writes it.
 *  - Strings the agent passes in (`const char*` arguments) are owned by the agent and valid
 *    only during the call; a plugin copies what it keeps.
 *  - Strings a plugin hands out through a `char**` out-parameter are allocated by the plugin
 *    and freed by the agent with the plugin's own `free_string`, never with the agent's free():
 *    the two may use different allocators. The agent sets every out-parameter to NULL before
 *    the call; a plugin leaves it NULL when it has nothing to say. free_string(NULL) is a no-op.
 *  - The instance pointer returned by `init` is opaque to the agent and owned by the plugin
 *    until `fini` releases it.
 *
 * Errors. Every call returns a drover_status. On DROVER_ERROR the plugin sets `*error` to a
 * message (the agent shows it to the operator). No exception, longjmp or Rust panic may
 * cross this boundary: the SDK (drover/sdk/driver.hpp) catches them all.
 *
 * Threads.
 *  - `init`, `set_config` (driver or device) and `fini` are called once each, in that order, from
 * one thread, and never while any other call on the same instance is running.
 *  - Every other driver call may be made from several threads at once, on different handles
 *    and on the same handle (e.g. one thread in `wait` while another calls `stop`, `inspect`
 *    or `stats`). A plugin guards its own state.
 *  - Blocking: `wait` blocks up to its timeout; `stop` blocks up to its timeout plus the time
 *    the SIGKILLed task takes to die; `start` blocks until the task has started (or failed
 *    to); `destroy` may block until the task is dead. `fingerprint`, `validate`, `inspect`,
 *    `signal`, `stats` and `recover` must return promptly (well under a second): the agent
 *    calls them on its fast paths.
 *
 * Versioning. Any change to a struct layout, a signature or a JSON shape below that an
 * existing plugin could observe bumps DROVER_PLUGIN_ABI_VERSION. Adding keys to a JSON object
 * does not: both sides ignore keys they do not know.
 */
#ifndef DROVER_PLUGIN_H
#define DROVER_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DROVER_PLUGIN_ABI_VERSION 1u

/* The one exported symbol, and its name for dlsym. */
#define DROVER_PLUGIN_ENTRY drover_plugin_entry
#define DROVER_PLUGIN_ENTRY_NAME "drover_plugin_entry"

/* Makes the entry visible even when a plugin builds with -fvisibility=hidden. */
#if defined(__GNUC__)
#define DROVER_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define DROVER_PLUGIN_EXPORT
#endif

typedef enum drover_status {
  DROVER_OK = 0,
  DROVER_ERROR = 1,
  /* Only from `wait`: the timeout passed and the task is still running. */
  DROVER_STILL_RUNNING = 2,
  /* Only from `recover` given a Starting handle ({"Starting": true, "StateDir", "RuntimeDir",
   * ...}: the agent died between asking for a start and keeping the handle): the driver is
   * sure the task never started, and the agent then starts it. Any other failure to recover
   * such a handle is DROVER_ERROR, and the agent reports the task failed rather than risk
   * running it twice.
   * (Added without an ABI bump: an older plugin never returns it.) */
  DROVER_NEVER_STARTED = 3
} drover_status;

typedef enum drover_plugin_type {
  DROVER_PLUGIN_TYPE_DRIVER = 1,
  /* A device plugin (GPUs, FPGAs...): its calls are drover_plugin.device. One that leaves
   * `device` NULL (as ABI 1 first reserved the type) is listed as loaded and never called,
   * not even init. */
  DROVER_PLUGIN_TYPE_DEVICE = 2
} drover_plugin_type;

/* The calls of a driver. `self` is the instance returned by drover_plugin.init. Every JSON
 * argument and result is a UTF-8 JSON text; the shapes are in docs/plugins.md. */
typedef struct drover_driver_vtable {
  /* The operator's plugin config (an object, possibly empty). It holds "enabled": bool when
   * the operator set it. A driver that needs enabling (raw_exec) stays disabled without it. */
  drover_status (*set_config)(void* self, const char* config_json, char** error);

  /* *out_json: {"Detected": bool, "Healthy": bool, "HealthDescription": str,
   *             "Attributes": {str: str},
   *             "Capabilities": {"FSIsolation": str, "DefaultUser": str,
   *                              "MountConfigs": str, "NetIsolation": str, "Exec": bool,
   *                              "RecoversStarting": bool}}
   * Capabilities (Nomad's names) are what the agent decides by, never a driver's name.
   * FSIsolation says where the task sees its dirs: "none" (the host's paths, the default),
   * "chroot" or "image" (at /alloc, /local and /secrets): the agent gives the task those
   * paths in its env and in `${NOMAD_*_DIR}` interpolation, and runs its script checks
   * inside it (through drover_driver_exec_v1). DefaultUser is the user a task runs as when
   * the job names none ("" for the driver's own choice); the agent makes the task's dirs
   * that user's. MountConfigs says whether the driver binds the task's "Mounts" (host
   * volumes, device plugins' mounts) into it: "all" or "none"; absent, "all" unless
   * FSIsolation is "none". A job that mounts a volume into a "none" driver's task is refused.
   * NetIsolation says whether the driver can put a task into the alloc's network namespace
   * (the start call's "NetworkNamespace", network mode bridge or none): "group" or "none"
   * (absent); a job in those modes with a "none" driver's task is refused.
   * MustInitiateNetwork (bool, absent: false) says that the driver's tasks can only join a
   * namespace the driver made itself (docker: a container joins another container's network,
   * never a namespace path): when a group in those modes has a task of such a driver, the
   * agent asks that driver to make the alloc's namespace (drover_driver_create_network_v1
   * below) instead of making one itself, then wires it and gives it to every task.
   * Exec (bool, absent: false; Nomad's name) says that the driver runs commands inside its
   * tasks through drover_driver_exec_stream_v1: the agent offers `alloc exec` only then.
   * RecoversStarting (bool, absent: false) says that `recover` of a Starting handle answers
   * DROVER_NEVER_STARTED whenever nothing of the task was started, from the handle alone, even
   * before the agent made any of the task's dirs: the agent may then store a new alloc's
   * Starting handles with its placement instead of just before each first start. */
  drover_status (*fingerprint)(void* self, char** out_json, char** error);

  /* Checks a task's driver Config before anything runs. *out_json: an array of strings, one
   * per problem, each naming the key ("config.command: required"); [] when fine. */
  drover_status (*validate)(void* self, const char* task_config_json, char** out_json,
                            char** error);

  /* Starts a task (the task JSON of docs/plugins.md). *out_handle_json: the handle, a JSON
   * object that is enough to find the task again after the agent restarts. */
  drover_status (*start)(void* self, const char* task_json, char** out_handle_json, char** error);

  /* Waits up to timeout_ms (0: just look) for the task to exit. DROVER_OK with *out_json =
   * {"ExitCode": int, "Signal": int, "OOMKilled": bool, "Err": str} once it has exited
   * (may be asked again: the same answer comes back); DROVER_STILL_RUNNING on timeout. */
  drover_status (*wait)(void* self, const char* handle_json, int64_t timeout_ms, char** out_json,
                        char** error);

  /* Sends `signal` (a name: "SIGTERM", "TERM", "SIGINT", ...) to the task's whole process
   * group, SIGKILLs the group after timeout_ms, and returns once the task has exited. */
  drover_status (*stop)(void* self, const char* handle_json, const char* signal, int64_t timeout_ms,
                        char** error);

  /* Makes sure the task is dead and frees everything the plugin keeps for it. */
  drover_status (*destroy)(void* self, const char* handle_json, char** error);

  /* *out_json: at least {"PID": int, "Running": bool} for process-based drivers. */
  drover_status (*inspect)(void* self, const char* handle_json, char** out_json, char** error);

  /* Sends `signal` (a name, as for stop) to the task's process group. */
  drover_status (*signal)(void* self, const char* handle_json, const char* signal, char** error);

  /* *out_json: resource usage, at least {"Pids": int, "RSSBytes": int}. */
  drover_status (*stats)(void* self, const char* handle_json, char** out_json, char** error);

  /* Re-attaches to a task from a persisted handle after an agent restart. Refuses a handle
   * whose task is gone (or whose PID now belongs to another process). *out_handle_json: the
   * handle to use from now on. */
  drover_status (*recover)(void* self, const char* handle_json, char** out_handle_json,
                           char** error);
} drover_driver_vtable;

/* The calls of a device plugin. `self` is the instance returned by drover_plugin.init.
 * Threads: set_config is called once, right after init (as for drivers); fingerprint,
 * reserve and stats may then be called from several threads at once and must return
 * promptly (well under a second): a plugin that talks to slow hardware refreshes in its own
 * thread and answers from what it last saw. JSON shapes are in docs/plugins.md. */
typedef struct drover_device_vtable {
  /* The operator's plugin config (an object, possibly empty; "enabled": bool when set). */
  drover_status (*set_config)(void* self, const char* config_json, char** error);

  /* *out_json: {"Detected": bool, "HealthDescription": str, "Devices": [group...]} where a
   * group is {"Vendor": str, "Type": str, "Name": str,
   *           "Attributes": {str: {"Value": number|str|bool, "Unit": str}},
   *           "Instances": [{"ID": str, "Healthy": bool, "HealthDescription": str,
   *                          "Attributes": {str: {"Value": ..., "Unit": str}}}]}.
   * No hardware (or no library to reach it) is not an error: Detected false, Devices [],
   * and HealthDescription says why. */
  drover_status (*fingerprint)(void* self, char** out_json, char** error);

  /* What a task needs to use the given instances. instance_ids_json: an array of instance
   * IDs (strings) from the fingerprint, not empty. *out_json: {"Env": {str: str},
   * "Devices": [{"HostPath": str, "ContainerPath": str, "Permissions": str}],
   * "Mounts": [{"HostPath": str, "ContainerPath": str, "ReadOnly": bool}]}. DROVER_ERROR
   * when an ID is unknown. Reserving changes nothing in the plugin: deciding which task
   * holds which instance is the agent's job. */
  drover_status (*reserve)(void* self, const char* instance_ids_json, char** out_json,
                           char** error);

  /* *out_json: {"Timestamp": unix ns, "Instances": {ID: {"Vendor": str, "Type": str,
   * "Name": str, "Stats": {str: {"Value": number, "Unit": str}}}}}: the usage of every
   * instance the plugin can measure; an instance or a stat it cannot read is left out. */
  drover_status (*stats)(void* self, char** out_json, char** error);
} drover_device_vtable;

typedef struct drover_plugin {
  /* --- frozen: these three keep their place in every ABI version --- */
  uint32_t abi_version; /* DROVER_PLUGIN_ABI_VERSION the plugin was built against */
  const char* name;     /* plain name: no '/', no "..", unique among loaded plugins */
  const char* version;  /* the plugin's own version, e.g. "0.1.0" */
  /* --- ABI version 1 --- */
  drover_plugin_type type;

  /* Creates the plugin's state. Returns the instance (may be NULL if the plugin keeps no
   * state) and DROVER_OK, or DROVER_ERROR with *error set: the plugin is then refused. */
  drover_status (*init)(void** out_instance, char** error);
  /* Releases the instance. Tasks keep running: the agent may be restarting. */
  void (*fini)(void* instance);
  /* Frees a string this plugin handed out. */
  void (*free_string)(char* s);

  /* Non-NULL when type == DROVER_PLUGIN_TYPE_DRIVER; every pointer in it non-NULL. */
  const drover_driver_vtable* driver;
  /* Non-NULL (every pointer in it non-NULL) when type == DROVER_PLUGIN_TYPE_DEVICE and the
   * plugin wants to be called; NULL otherwise. Was `const void*` when first reserved: the
   * same pointer-sized slot, so ABI version 1 is unchanged. */
  const drover_device_vtable* device;
} drover_plugin;

/* Optional driver extension, ABI 1: exec into a running task.
 *
 * A separate exported symbol, not a new vtable slot: the loader cannot learn the length of
 * an old plugin's drover_driver_vtable, so reading a slot appended to it would read past
 * the end of what an ABI-1 plugin built before this addition provides. A driver that
 * supports exec exports DROVER_DRIVER_EXEC_V1_NAME; the loader resolves it with dlsym, and a
 * plugin without it simply has no exec. ABI version 1 is unchanged.
 *
 * Runs argv_json (a JSON array of strings, not empty) inside the task named by handle_json
 * (its namespaces, cgroup, user and env), with stdin empty and no terminal, killing it after
 * timeout_ms. *out_json: {"Stdout": str, "Stderr": str, "ExitCode": int}. May block up to
 * timeout_ms. `self` is the instance returned by init; ownership as for every call above. */
typedef drover_status (*drover_driver_exec_v1_fn)(void* self, const char* handle_json,
                                                  const char* argv_json, int64_t timeout_ms,
                                                  char** out_json, char** error);
#define DROVER_DRIVER_EXEC_V1 drover_driver_exec_v1
#define DROVER_DRIVER_EXEC_V1_NAME "drover_driver_exec_v1"
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_EXEC_V1(void* self, const char* handle_json,
                                                         const char* argv_json,
                                                         int64_t timeout_ms, char** out_json,
                                                         char** error);

/* Optional driver extension, ABI 1: an interactive command inside a running task (Nomad's
 * `alloc exec -i -t`). One exported symbol, as above, that returns the table of calls below;
 * a plugin without it (or returning NULL) has no streaming exec.
 *
 * start: runs request_json = {"Command": [str...] (not empty), "Tty": bool, "Height": int,
 * "Width": int} (the size in cells, 0 when unknown) inside the task named by handle_json, as
 * the task runs (its namespaces, cgroup, user, env and working dir), and returns at once.
 * With Tty the command leads a new session whose controlling terminal is a pseudo-terminal
 * of the given size; without, its stdin, stdout and stderr are three pipes. On DROVER_OK:
 *   *out_session: the plugin's own state for this command, opaque to the agent, passed to
 *     the other calls and freed by `close`;
 *   out_fds[0]: Tty: the terminal's master (read the output, write the input); else the
 *     write end of the command's stdin;
 *   out_fds[1], out_fds[2]: the read ends of its stdout and stderr; -1 with Tty;
 *   out_fds[3]: a descriptor that becomes readable once the command has exited (a pidfd),
 *     or -1 (the agent then calls `wait` now and then).
 * Every descriptor handed out is the agent's: it closes each one with close(2) and the plugin
 * never touches them again (what the plugin needs for itself, e.g. the master for `resize`,
 * it keeps as its own duplicate, closed by `close`). All are close-on-exec; the agent may
 * make them non-blocking. On DROVER_ERROR nothing is handed out and nothing keeps running.
 *
 * wait: DROVER_OK with *out_json = {"ExitCode": int, "Signal": int} once the command has
 * exited (killed by signal S: ExitCode 128 + S), DROVER_STILL_RUNNING after timeout_ms (0:
 * just look). resize: the terminal's new size (a no-op without Tty). kill: SIGKILLs the
 * command and what it started in its session; returns at once. close: kills the command if
 * it still runs, reaps it and frees the session; `session` is invalid afterwards. Each call
 * on one session comes from one thread at a time; different sessions may be used at once. */
typedef struct drover_exec_stream_v1 {
  drover_status (*start)(void* self, const char* handle_json, const char* request_json,
                         void** out_session, int out_fds[4], char** error);
  drover_status (*wait)(void* self, void* session, int64_t timeout_ms, char** out_json,
                        char** error);
  drover_status (*resize)(void* self, void* session, int height, int width, char** error);
  drover_status (*kill)(void* self, void* session, char** error);
  void (*close)(void* self, void* session);
} drover_exec_stream_v1;
typedef const drover_exec_stream_v1* (*drover_driver_exec_stream_v1_fn)(void);
#define DROVER_DRIVER_EXEC_STREAM_V1 drover_driver_exec_stream_v1
#define DROVER_DRIVER_EXEC_STREAM_V1_NAME "drover_driver_exec_stream_v1"
DROVER_PLUGIN_EXPORT const drover_exec_stream_v1* DROVER_DRIVER_EXEC_STREAM_V1(void);

/* Optional driver extension, ABI 1: task events from the driver (e.g. image pull progress).
 * An exported symbol of its own, for the reason given for exec above.
 *
 * The agent's sink: records one event on the task `task_name` of the alloc `alloc_id` (the
 * AllocID and TaskName of the task JSON given to start). event_json is an object
 * {"Type": str (not empty), "Message": str, "Details": {str: str}}; the agent stamps the
 * time. All three strings are owned by the plugin and read only during the call. An event
 * for an alloc or task the agent does not know is dropped. The sink may be called from any
 * thread, at any time between set_event_sink and the return of `fini`; it returns promptly
 * (it may write the event to the agent's state store) and never calls back into the plugin,
 * but a plugin must not hold, while calling it, a lock that its other calls wait on.
 * Emit sparingly: the agent keeps only the last few events of a task. */
typedef void (*drover_event_sink_fn)(void* ctx, const char* alloc_id, const char* task_name,
                                     const char* event_json);

/* Called once, right after set_config and before any other call (the rules of set_config
 * apply), when the plugin exports it; the plugin keeps `sink` and `ctx` (both owned by the
 * agent, valid until `fini` returns) and calls sink(ctx, ...) for each event. DROVER_ERROR
 * only costs the plugin its events: the agent logs *error and carries on. */
typedef drover_status (*drover_driver_set_event_sink_v1_fn)(void* self, drover_event_sink_fn sink,
                                                            void* ctx, char** error);
#define DROVER_DRIVER_SET_EVENT_SINK_V1 drover_driver_set_event_sink_v1
#define DROVER_DRIVER_SET_EVENT_SINK_V1_NAME "drover_driver_set_event_sink_v1"
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_SET_EVENT_SINK_V1(void* self,
                                                                   drover_event_sink_fn sink,
                                                                   void* ctx, char** error);

/* Optional driver extension, ABI 1: reap what no known alloc owns. An exported symbol of its
 * own, as above.
 *
 * Called once per agent start, after the agent has recovered its allocs and before it serves
 * its API, with known_json = {"AllocIDs": [str...], "AllocDirRoot": str}: every alloc the
 * agent knows, live or terminal, and the folder that holds this agent's alloc dirs (every
 * task's AllocDir is inside it). The driver removes at once what this agent made for any other
 * alloc (an agent that died between creating a container and persisting the alloc leaves
 * one). What another agent on the same node made lives under another root and is left alone:
 * the docker driver removes the containers it labelled with an alloc id not listed and an
 * alloc dir inside AllocDirRoot. May block while it removes; a driver with nothing of the
 * kind returns DROVER_OK. Other calls (recover and start of the known allocs' tasks) may run
 * at the same time; two reap calls never do. */
typedef drover_status (*drover_driver_reap_v1_fn)(void* self, const char* known_json, char** error);
#define DROVER_DRIVER_REAP_V1 drover_driver_reap_v1
#define DROVER_DRIVER_REAP_V1_NAME "drover_driver_reap_v1"
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_REAP_V1(void* self, const char* known_json,
                                                         char** error);

/* Optional driver extension, ABI 1: a file descriptor that says when a task may have ended,
 * so that an agent holding thousands of running tasks waits on them all without a thread per
 * task waking up to call `wait` again and again. An exported symbol of its own, as above.
 *
 * *out_fd: a descriptor that becomes readable (or hangs up) once the task named by
 * handle_json may have exited; the agent then calls `wait` with timeout 0 (STILL_RUNNING
 * means: ask for a new descriptor) and closes the descriptor with close(2). Ownership of the
 * descriptor passes to the agent. *out_fd = -1 with DROVER_OK: none for this task (e.g. it has
 * already exited); the agent calls `wait` as it would without the extension. Returns
 * promptly; may be called from several threads at once, like `wait`. */
typedef drover_status (*drover_driver_wait_fd_v1_fn)(void* self, const char* handle_json,
                                                     int* out_fd, char** error);
#define DROVER_DRIVER_WAIT_FD_V1 drover_driver_wait_fd_v1
#define DROVER_DRIVER_WAIT_FD_V1_NAME "drover_driver_wait_fd_v1"
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_WAIT_FD_V1(void* self, const char* handle_json,
                                                            int* out_fd, char** error);

/* Optional driver extension, ABI 1: the alloc's network namespace, made by the driver (Nomad's
 * DriverNetworkManager). Two exported symbols of their own, as above; the agent uses them only
 * when both are exported and the fingerprint's Capabilities say "MustInitiateNetwork": true.
 *
 * create_network: request_json = {"AllocID": str, "AllocDir": str, "Mode": "bridge"|"none",
 * "DNS": {"Servers": [str], "Searches": [str], "Options": [str]} (only when the group's network
 * has a dns block: the resolv.conf of what the driver makes, which its tasks share),
 * "Hostname": str (only when the group's network has a hostname, interpolated: the hostname
 * of what the driver makes, which its tasks share)},
 * called before any task of the alloc starts, when its group's network mode is bridge or none.
 * The driver makes (or finds running, from an earlier call for the same alloc) something that
 * holds a network namespace with loopback alone, e.g. docker's "pause" container with network
 * mode none. *out_json = {"Path": str, "Labels": {str: str}, "Created": bool}: Path is a file
 * that names the namespace (/proc/<pid>/ns/net), which the agent bind-mounts at once, wires with
 * CNI and gives every task of the alloc as the start call's "NetworkNamespace"; Labels is what
 * the driver needs to find it again, handed back as the start call's "NetworkLabels" and to
 * destroy_network; Created is false when it was already there. May block (an image pull).
 *
 * destroy_network: spec_json = {"AllocID": str, "Labels": {str: str}} (Labels may be empty
 * when the agent died between the two calls: the driver then finds it by AllocID). Called once
 * the alloc's tasks have ended and CNI DEL has run, and at agent start for what an alloc that
 * ended while the agent was away left. Removes it; nothing there is not an error. May block. */
typedef drover_status (*drover_driver_create_network_v1_fn)(void* self, const char* request_json,
                                                            char** out_json, char** error);
typedef drover_status (*drover_driver_destroy_network_v1_fn)(void* self, const char* spec_json,
                                                             char** error);
#define DROVER_DRIVER_CREATE_NETWORK_V1 drover_driver_create_network_v1
#define DROVER_DRIVER_CREATE_NETWORK_V1_NAME "drover_driver_create_network_v1"
#define DROVER_DRIVER_DESTROY_NETWORK_V1 drover_driver_destroy_network_v1
#define DROVER_DRIVER_DESTROY_NETWORK_V1_NAME "drover_driver_destroy_network_v1"
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_CREATE_NETWORK_V1(void* self,
                                                                   const char* request_json,
                                                                   char** out_json, char** error);
DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_DESTROY_NETWORK_V1(void* self,
                                                                    const char* spec_json,
                                                                    char** error);

/* The entry every plugin exports. Must be cheap, must not fail, and returns the same
 * pointer every time. */
typedef const drover_plugin* (*drover_plugin_entry_fn)(void);
DROVER_PLUGIN_EXPORT const drover_plugin* DROVER_PLUGIN_ENTRY(void);

#ifdef __cplusplus
}
#endif

#endif /* DROVER_PLUGIN_H */

/* hello_c: an example drover driver in plain C against drover/plugin.h alone. A task writes
 * "hello from C" (or its config's "greeting") to its stdout log and exits 0 at once.
 * It shows the parts every C plugin needs: the entry and its handshake fields, strings handed
 * out with malloc and freed by our own free_string, and an error message on every failure. */
#include <drover/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HELLO_C_VERSION
#define HELLO_C_VERSION "0.0.0"
#endif
/* Only the tests override this, to build a plugin for an ABI the agent does not speak. */
#ifndef HELLO_C_ABI_VERSION
#define HELLO_C_ABI_VERSION DROVER_PLUGIN_ABI_VERSION
#endif

static char* dup_string(const char* s) {
  size_t n = strlen(s) + 1;
  char* p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

static drover_status fail(char** error, const char* message) {
  *error = dup_string(message);
  return DROVER_ERROR;
}

/* Copies the string value of "key" from a JSON text into out. A real plugin would use a JSON
 * library; this one understands the escapes a file path or a greeting can hold, and refuses
 * \u escapes rather than mangle them. Returns 1 when found. */
static int json_string_field(const char* json, const char* key, char* out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\"", key);
  const char* p = strstr(json, pattern);
  if (!p) return 0;
  p += strlen(pattern);
  while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n') p++;
  if (*p++ != '"') return 0;
  size_t n = 0;
  for (; *p && *p != '"'; p++) {
    char c = *p;
    if (c == '\\') {
      c = *++p;
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c != '"' && c != '\\' && c != '/') return 0;
    }
    if (n + 1 >= size) return 0;
    out[n++] = c;
  }
  out[n] = '\0';
  return *p == '"';
}

static drover_status hello_init(void** out_instance, char** error) {
  (void)error;
  *out_instance = NULL; /* no state */
  return DROVER_OK;
}
static void hello_fini(void* instance) { (void)instance; }
static void hello_free_string(char* s) { free(s); }

static drover_status hello_set_config(void* self, const char* config_json, char** error) {
  (void)self, (void)config_json, (void)error;
  return DROVER_OK;
}

static drover_status hello_fingerprint(void* self, char** out_json, char** error) {
  (void)self;
  *out_json = dup_string(
      "{\"Detected\": true, \"Healthy\": true, \"HealthDescription\": \"healthy\","
      " \"Attributes\": {\"driver.hello_c.version\": \"" HELLO_C_VERSION "\"}}");
  return *out_json ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_validate(void* self, const char* config_json, char** out_json,
                                    char** error) {
  (void)self, (void)config_json;
  *out_json = dup_string("[]");
  return *out_json ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_start(void* self, const char* task_json, char** out_handle,
                                 char** error) {
  (void)self;
  char path[4096], greeting[256] = "hello from C";
  if (!json_string_field(task_json, "StdoutPath", path, sizeof path))
    return fail(error, "hello_c: the task has no StdoutPath");
  json_string_field(task_json, "greeting", greeting, sizeof greeting);
  FILE* f = fopen(path, "ae");
  if (!f) return fail(error, "hello_c: cannot open the task's stdout log");
  fprintf(f, "%s\n", greeting);
  fclose(f);
  *out_handle = dup_string("{\"Hello\": true}");
  return *out_handle ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_wait(void* self, const char* handle, int64_t timeout_ms,
                                char** out_json, char** error) {
  (void)self, (void)handle, (void)timeout_ms;
  *out_json = dup_string("{\"ExitCode\": 0, \"Signal\": 0, \"OOMKilled\": false, \"Err\": \"\"}");
  return *out_json ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_stop(void* self, const char* handle, const char* signal,
                                int64_t timeout_ms, char** error) {
  (void)self, (void)handle, (void)signal, (void)timeout_ms, (void)error;
  return DROVER_OK; /* already done */
}

static drover_status hello_destroy(void* self, const char* handle, char** error) {
  (void)self, (void)handle, (void)error;
  return DROVER_OK;
}

static drover_status hello_inspect(void* self, const char* handle, char** out_json,
                                   char** error) {
  (void)self, (void)handle;
  *out_json = dup_string("{\"PID\": 0, \"Running\": false}");
  return *out_json ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_signal(void* self, const char* handle, const char* signal,
                                  char** error) {
  (void)self, (void)handle, (void)signal;
  return fail(error, "hello_c tasks take no signals");
}

static drover_status hello_stats(void* self, const char* handle, char** out_json, char** error) {
  (void)self, (void)handle;
  *out_json = dup_string("{\"Pids\": 0, \"RSSBytes\": 0}");
  return *out_json ? DROVER_OK : fail(error, "out of memory");
}

static drover_status hello_recover(void* self, const char* handle, char** out_handle,
                                   char** error) {
  (void)self;
  *out_handle = dup_string(handle);
  return *out_handle ? DROVER_OK : fail(error, "out of memory");
}

static const drover_driver_vtable hello_driver = {
    hello_set_config, hello_fingerprint, hello_validate, hello_start,
    hello_wait,       hello_stop,        hello_destroy,  hello_inspect,
    hello_signal,     hello_stats,       hello_recover,
};

static const drover_plugin hello_plugin = {
    HELLO_C_ABI_VERSION, "hello_c", HELLO_C_VERSION, DROVER_PLUGIN_TYPE_DRIVER,
    hello_init,          hello_fini, hello_free_string, &hello_driver, NULL,
};

DROVER_PLUGIN_EXPORT const drover_plugin* DROVER_PLUGIN_ENTRY(void) { return &hello_plugin; }

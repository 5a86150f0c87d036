#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan) in build-fuzz/ and runs each for a bounded time,
# with a corpus seeded from examples/ and the tests' jobs. Prints a table: target, executions,
# crashes. Crash inputs land in fuzz/out/TARGET/ (crash-*), to be turned into regression tests.
#   fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
build=${DROVER_FUZZ_BUILD:-$root/build-fuzz}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_jobspec fuzz_hcl fuzz_agent_config fuzz_api_request fuzz_http_layer fuzz_plugin_loader)

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address" -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address" \
    -DDROVER_FUZZ=ON -DDROVER_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build" "${targets[@]}" >/dev/null

out=$root/fuzz/out
mkdir -p "$out"
seed() {  # target -> seed corpus dir
  local t=$1 dir=$out/$1/corpus
  mkdir -p "$dir"
  case $t in
    fuzz_jobspec)
      find "$root/examples" "$root/tests" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) \
        -size -64k -exec cp -t "$dir" {} + 2>/dev/null || true ;;
    fuzz_hcl)
      find "$root/examples" "$root/tests" -type f \( -name '*.nomad' -o -name '*.hcl' \) \
        -size -64k -exec cp -t "$dir" {} + 2>/dev/null || true
      printf 'job "j" {\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config { command = "/bin/sh"\n        args = ["-c", <<-EOF\n          echo ${NOMAD_ALLOC_ID} $${x}\n        EOF\n        ] }\n    }\n  }\n}\n' >"$dir/heredoc.nomad"
      printf 'a = [1, 2.5e3, -4, true, null, { k = "v", "q" : [] },]\n/* c */ b "l" m { # x\n}\n' >"$dir/syntax.hcl"
      cat >"$dir/eval.nomad" <<'HCL'
variable "n" {
  type    = number
  default = 2
  validation {
    condition     = var.n > 0
    error_message = "n"
  }
}
locals {
  names = [for i in range(var.n) : format("t%02d", i) if i % 2 == 0]
  by    = { for k, v in { a = 1, b = 2 } : upper(k) => v * 3... }
}
job "e" {
  group "g" {
    count = var.n > 1 ? var.n : 1
    dynamic "task" {
      for_each = local.names
      iterator = t
      labels   = [t.value]
      content {
        driver = "raw_exec"
        config {
          command = "/bin/echo"
          args    = [join(",", [{ x = 1 }, { x = 2 }][*].x), "%{ for k, v in local.by ~}${k}=${v[0]} %{ endfor ~}", "${node.class}"]
        }
      }
    }
  }
}
HCL
      ;;
    fuzz_agent_config)
      find "$root/packaging" "$root/examples" -type f \( -name '*.yaml' -o -name '*.hcl' \) -size -64k \
        -exec cp -t "$dir" {} + 2>/dev/null || true
      printf 'data_dir: /x\nacl: {enabled: true}\ntls: {cert_file: a, key_file: b}\n' >"$dir/hardening.yaml" ;;
    fuzz_api_request)
      printf 'GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Nomad-Token: fuzz-secret\r\n\r\n' >"$dir/get"
      printf 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nContent-Length: 4\r\n\r\njob:' >"$dir/post"
      printf 'GET /v1/job/%%2e%%2e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' >"$dir/chunked" ;;
    fuzz_http_layer)
      # byte 0 picks how the rest is cut into reads; then raw bytes as a client sends them
      printf '\x07GET /v1/agent/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/agent/health HTTP/1.1\r\n\r\n' >"$dir/pipelined"
      printf '\x03POST /v1/jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\njob:\r\n0\r\nT: v\r\n\r\n' >"$dir/chunked"
      printf '\x00POST /v1/jobs HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n' >"$dir/gzip"
      printf '\x01POST /v1/jobs HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd' >"$dir/two-lengths"
      printf '\x02POST /v1/jobs HTTP/1.1\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\na=\xff\x01' >"$dir/form" ;;
    fuzz_plugin_loader)
      find "$build/plugins-out" -name '*.so' -size -2M -exec cp -t "$dir" {} + 2>/dev/null || true
      head -c 64 /bin/true >"$dir/elf-header" ;;
  esac
  echo "$dir"
}

printf '%-20s %12s %8s %s\n' target executions crashes note
for t in "${targets[@]}"; do
  corpus=$(seed "$t")
  mkdir -p "$out/$t/artifacts"
  log=$out/$t/log
  (cd "$out/$t" && ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/$t" -max_total_time="$secs" -timeout=10 \
     -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$out/$t/artifacts/" -print_final_stats=1 \
     "$corpus" >"$log" 2>&1) || true
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  crashes=$(find "$out/$t/artifacts" -type f | wc -l)
  note=$(grep -Eo 'ERROR: (AddressSanitizer|libFuzzer): [a-z-]+' "$log" | head -1 || true)
  printf '%-20s %12s %8s %s\n' "$t" "${execs:-?}" "$crashes" "$note"
done

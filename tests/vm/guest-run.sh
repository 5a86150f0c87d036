#!/.v2-guest/busybox sh
# Stage 2, in the guest's root (the host's files under an overlay): the usual mounts, cgroup2
# alone on /sys/fs/cgroup with every controller handed to the children, loopback up; then the
# host's command (ctl/cmd.sh) with its output and exit status written back through ctl/.
bb=/.v2-guest/busybox
ctl=/.v2-guest/ctl
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
off() { $bb sync; $bb poweroff -f; echo o > /proc/sysrq-trigger; }
fail() { echo "v2-guest: $*" | $bb tee -a $ctl/failed; off; }

$bb mkdir -p /dev/pts /dev/shm /dev/mqueue
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
$bb mount -t mqueue mqueue /dev/mqueue 2>/dev/null
$bb ln -sf /proc/self/fd /dev/fd
$bb ln -sf /proc/self/fd/0 /dev/stdin
$bb ln -sf /proc/self/fd/1 /dev/stdout
$bb ln -sf /proc/self/fd/2 /dev/stderr
$bb ln -sf pts/ptmx /dev/ptmx
# /run is the host's otherwise (sockets, pid files of the host's daemons).
$bb mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
$bb mkdir -p /run/lock /run/user

# The kernel was booted with cgroup_no_v1=all: no v1 hierarchy can be mounted, only this one.
$bb mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup \
  || fail "cannot mount cgroup2 on /sys/fs/cgroup"
for c in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "v2-guest: cannot enable the $c controller"
done
for c in cpu memory pids cpuset; do
  $bb grep -qw $c /sys/fs/cgroup/cgroup.subtree_control \
    || fail "the $c controller is not enabled in /sys/fs/cgroup/cgroup.subtree_control"
done
$bb mount -t bpf bpf /sys/fs/bpf 2>/dev/null
$bb ip link set lo up || fail "cannot bring up the loopback interface"
$bb hostname v2-guest

: > $ctl/booted
/bin/bash $ctl/cmd.sh </dev/null >>$ctl/stdout 2>>$ctl/stderr
echo $? > $ctl/rc
off

#!/bin/busybox sh
# Stage 1, the initramfs's /init: loads the virtio, 9p and overlay modules copied into the
# initramfs, mounts the host's root (9p, read-only) under a tmpfs overlay and switches to it.
# Every failure powers the guest off with a line on the console, which the host prints.
bb=/bin/busybox
$bb mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
halt() { echo "v2-guest: $*"; $bb poweroff -f; echo o > /proc/sysrq-trigger; }

while read -r m; do $bb insmod "/modules/$m" || echo "v2-guest: insmod $m failed"; done < /modules/order

# The virtio transport probes asynchronously: the first mount can come before the device.
opts=trans=virtio,version=9p2000.L,msize=512000
tries=0
until $bb mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower 2>/dev/null; do
  tries=$((tries + 1))
  [ $tries -gt 100 ] && halt "cannot mount the host root over 9p (mount_tag hostroot)"
  $bb sleep 0.1
done
# Writes go to guest memory and vanish at power-off: the host's files are never changed.
$bb mount -t tmpfs -o mode=755 tmpfs /upper
$bb mkdir -p /upper/data /upper/work
$bb mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot \
  || halt "cannot mount the overlay on the host root"
$bb mkdir -p /newroot/.v2-guest/ctl
$bb cp /bin/busybox /guest-run.sh /newroot/.v2-guest/
$bb mount -t 9p -o "$opts,cache=mmap" ctl /newroot/.v2-guest/ctl \
  || halt "cannot mount the control share over 9p (mount_tag ctl)"
for d in dev proc sys; do $bb mount --move /$d /newroot/$d; done
exec $bb switch_root /newroot /.v2-guest/busybox sh /.v2-guest/guest-run.sh

# pegasus: is this server ready for Kamal? Read-only: it waits and looks, and changes
# nothing (it never takes a lock to test it). POSIX sh without single quotes (pegasus
# sends it inside them; comment lines are not sent). Arguments: a limit in seconds, then
# the package manager lock files. Output: "pegasus-ready ..." lines, the facts last.
limit=$1
shift
start=$(date +%s)
say() { printf "pegasus-ready %s\n" "$*"; }
# The first of the lock files a process holds a lock on: "FILE PID NAME", or nothing.
# /proc/locks lists every fcntl and flock lock ("1: POSIX ADVISORY WRITE PID MAJ:MIN:INODE
# ..."; waiters are marked "->") and can be read by any user.
holder() {
  [ -r /proc/locks ] || return 0
  for f in "$@"; do
    s=$(stat -L -c "%d %i" -- "$f" 2>/dev/null) || continue
    d=${s% *}
    want="$(( (d >> 8) & 4095 )):$(( (d & 255) | ((d >> 12) & 1048320) )):${s#* }"
    while read -r _ kind _ _ pid id _; do
      [ "$kind" = "->" ] && continue
      ino=${id##*:}
      majmin=${id%:*}
      [ "$ino" = "${want##*:}" ] || continue
      [ "$(( 0x${majmin%:*} )):$(( 0x${majmin#*:} )):$ino" = "$want" ] || continue
      name=
      read -r name 2>/dev/null < "/proc/$pid/comm"
      name=$(printf "%s" "$name" | tr -c "A-Za-z0-9._:/-" "_" | cut -c1-32)
      echo "$f $pid ${name:-?}"
      return 0
    done < /proc/locks
  done
}
left() { echo $(( limit - ($(date +%s) - start) )); }
docker=no
command -v docker >/dev/null 2>&1 && docker=yes
ci=absent
if command -v cloud-init >/dev/null 2>&1; then
  say login cloud-init
  if command -v timeout >/dev/null 2>&1; then
    out=$(timeout "$limit" cloud-init status --wait 2>&1 </dev/null)
  else
    out=$(cloud-init status --wait 2>&1 </dev/null)
  fi
  case $? in
    1) ci=error ;;
    124|137) ci=timeout ;;
    *) ci=done ;;
  esac
  case $out in
    *"status: error"*) ci=error ;;
  esac
  if [ "$ci" = error ]; then
    cloud-init status --long 2>&1 </dev/null | head -n 12 | while IFS= read -r line; do
      say detail "$line"
    done
  fi
  if [ "$ci" = timeout ]; then
    say facts cloud-init=timeout package-manager=- docker=$docker
    exit 0
  fi
else
  say login no-cloud-init
fi
pm=idle
held=$(holder "$@")
if [ -n "$held" ]; then
  say lock $held
  while [ -n "$held" ]; do
    if [ "$(left)" -le 0 ]; then
      pm=busy
      break
    fi
    sleep 1
    held=$(holder "$@")
  done
fi
say facts cloud-init=$ci package-manager=$pm docker=$docker

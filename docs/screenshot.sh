#!/usr/bin/env bash
# Regenerates the README's pictures of the wizard from a real run on the
# practice lab: `sudo make screenshots`. Needs root (the lab), tmux, and
# builds charmbracelet/freeze at a pinned version into a cache directory
# (the module proxy refuses `go install freeze@version`, so it is built from
# a throwaway module that requires it).
set -euo pipefail
cd "$(dirname "$0")/.."
FREEZE_VERSION=v0.2.2
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hotsnap-tools/freeze-$FREEZE_VERSION
if [ ! -x "$cache/freeze" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init freezebuild >/dev/null 2>&1 &&
   go get "github.com/charmbracelet/freeze@$FREEZE_VERSION" >/dev/null 2>&1 &&
   mkdir -p "$cache" && go build -o "$cache/freeze" github.com/charmbracelet/freeze)
  rm -rf "$tmp"
fi
BIN=./hotsnap
name=hsshot
state=$(mktemp -d /tmp/hotsnap-shot-XXXX); chmod 711 "$state"
sock=hotsnap-shot-$$
cleanup() { tmux -L "$sock" kill-server 2>/dev/null || true; "$BIN" lab down --name $name --purge >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT
"$BIN" lab up --name $name --subnet 22 --data 50MB --state-dir "$state/lab" >/dev/null
tmux -L "$sock" new-session -d -x 100 -y 34 "$BIN lab exec --name $name -- hotsnap; sleep 600"
waitfor() { # wait up to $2 seconds for text $1 on the pane
  for _ in $(seq 1 $(($2 * 5))); do tmux -L "$sock" capture-pane -p | grep -q -- "$1" && return; sleep 0.2; done
}
shot() { # wait for text, then capture the pane with its colours into docs/$1.png
  for _ in $(seq 1 150); do tmux -L "$sock" capture-pane -p | grep -q -- "$2" && break; sleep 0.2; done
  tmux -L "$sock" capture-pane -e -p > "$state/$1.ansi"
  "$cache/freeze" --language ansi --window --padding 20 --output "docs/$1.png" < "$state/$1.ansi" >/dev/null
  echo "docs/$1.png"
}
shot wizard-home "What do you want to do"
tmux -L "$sock" send-keys 2
shot wizard-preflight "preflight finished"
tmux -L "$sock" send-keys Enter
sleep 1
tmux -L "$sock" send-keys 1
shot wizard-plan "time: "
tmux -L "$sock" send-keys Enter
shot wizard-gate "GATE"
tmux -L "$sock" send-keys y
shot wizard-backup-summary "backup finished"
# the restore of that backup: the picker, the destructive gate with the
# verification and topology results, the summary with the report
tmux -L "$sock" send-keys Enter
waitfor "What do you want to do" 10
tmux -L "$sock" send-keys 5
shot wizard-restore-picker "Restore: pick a backup"
tmux -L "$sock" send-keys Enter
waitfor "Plan review: restore" 30
tmux -L "$sock" send-keys Enter
waitfor "GATE: Stop TheHive" 60
tmux -L "$sock" send-keys y
shot wizard-restore-gate "Type the cluster name"
tmux -L "$sock" send-keys -l lab
tmux -L "$sock" send-keys Enter
waitfor "Successful full restore" 120
shot wizard-restore-summary "Successful full restore"

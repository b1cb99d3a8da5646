package alien4cloud

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

// Faults are the stand-in's fault switches, read from a JSON file when
// they matter (at SIGTERM, at each maintenance write), so they can be
// flipped while it runs.
type Faults struct {
	// IgnoreSIGTERM makes the service ignore SIGTERM, as a JVM stuck in a
	// shutdown hook does: systemctl stop then waits TimeoutStopSec and kills it.
	IgnoreSIGTERM bool `json:"ignore_sigterm,omitempty"`
	// MaintenanceFails makes Elasticsearch refuse the maintenance state's
	// write (a read-only index, as after the flood-stage disk watermark):
	// POST /rest/latest/maintenance answers 500, and the service, as the
	// real one, keeps the mode enabled in memory only.
	MaintenanceFails bool `json:"maintenance_fails,omitempty"`
	// MaintenanceOffHangs makes turning maintenance mode off (DELETE) wait,
	// as a write to an Elasticsearch without a master does, until the
	// switch is off; a client that goes away meanwhile changes nothing.
	// The real request gives up after Elasticsearch's master timeout (30 s
	// by default); this one waits as long as the switch is on, so that a
	// test can hold it.
	MaintenanceOffHangs bool `json:"maintenance_off_hangs,omitempty"`
}

// FaultFileName is the fault file's name in the service manager's directory.
const FaultFileName = "a4c.faults.json"

// DefaultFaultFile is where the stand-in reads its faults: next to the
// systemctl shim's unit state, a directory of the lab's own.
func DefaultFaultFile() string {
	dir := os.Getenv(thehive.ServiceDirEnv)
	if dir == "" {
		dir = thehive.DefaultServiceDir
	}
	return filepath.Join(dir, FaultFileName)
}

// ReadFaults reads a fault file; a missing file means no fault.
func ReadFaults(path string) (Faults, error) {
	var f Faults
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read faults: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read faults %s: %w", path, err)
	}
	return f, nil
}

// WriteFaults writes a fault file atomically (0644: the service, running as
// a4c, reads it).
func WriteFaults(path string, f Faults) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("write faults: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write faults: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write faults: %w", err)
	}
	return nil
}

// onOff parses on/off/true/false.
func onOff(s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return strconv.ParseBool(s)
}

// runFault is "a4c-standin fault": it changes the named switches and
// keeps the others.
func runFault(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("a4c-standin fault", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("faults", DefaultFaultFile(), "")
	sigterm := fs.String("ignore-sigterm", "", "")
	maint := fs.String("maintenance-fails", "", "")
	hangs := fs.String("maintenance-off-hangs", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "a4c-standin fault: bad arguments\n%s", usage)
		return 2
	}
	f, err := ReadFaults(*file)
	if err != nil {
		fmt.Fprintf(stderr, "a4c-standin fault: %v\n", err)
		return 1
	}
	for _, sw := range []struct {
		val string
		dst *bool
	}{{*sigterm, &f.IgnoreSIGTERM}, {*maint, &f.MaintenanceFails}, {*hangs, &f.MaintenanceOffHangs}} {
		if sw.val == "" {
			continue
		}
		on, err := onOff(sw.val)
		if err != nil {
			fmt.Fprintf(stderr, "a4c-standin fault: %q is not on or off\n", sw.val)
			return 2
		}
		*sw.dst = on
	}
	if err := WriteFaults(*file, f); err != nil {
		fmt.Fprintf(stderr, "a4c-standin fault: %v\n", err)
		return 1
	}
	return 0
}

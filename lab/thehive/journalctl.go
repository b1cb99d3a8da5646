package thehive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// JournalctlMain is the lab's journalctl: `journalctl [-u UNIT]... [-n N]
// [--since T] [--until T] [-f] [-o short|short-iso|cat] [--no-pager] [-q]`,
// reading the journals the systemctl shim writes in $HOTSNAP_LAB_SERVICE_DIR.
// With -f it follows until SIGINT or SIGTERM.
func JournalctlMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return journalctl(ctx, serviceDir(), time.Now, args, stdout, stderr)
}

type journalOpts struct {
	units        []string
	lines        int // -1: all
	since, until time.Time
	follow       bool
	output       string
	quiet        bool
}

func journalctl(ctx context.Context, dir string, now func() time.Time, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("journalctl", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	units := fs.StringArrayP("unit", "u", nil, "show logs of this unit")
	lines := fs.StringP("lines", "n", "", "number of entries to show")
	since := fs.StringP("since", "S", "", "show entries not older than this")
	until := fs.StringP("until", "U", "", "show entries not newer than this")
	follow := fs.BoolP("follow", "f", false, "follow the journal")
	output := fs.StringP("output", "o", "short", "output mode")
	quiet := fs.BoolP("quiet", "q", false, "do not show info messages")
	fs.Bool("no-pager", false, "do not pipe output into a pager")
	fs.BoolP("catalog", "x", false, "add explanatory help texts")
	fs.BoolP("pager-end", "e", false, "jump to the end in the pager")
	fs.Bool("no-hostname", false, "unused")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "journalctl: %v\n", err)
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "Failed to add match '%s': Invalid argument\n", fs.Arg(0))
		return 1
	}
	o := journalOpts{lines: -1, follow: *follow, output: *output, quiet: *quiet}
	switch o.output {
	case "short", "short-iso", "cat":
	default:
		fmt.Fprintf(stderr, "Unknown output format '%s'.\n", o.output)
		return 1
	}
	for _, u := range *units {
		n, err := unitName(u)
		if err != nil {
			fmt.Fprintf(stderr, "Failed to add filter for units: %v\n", err)
			return 1
		}
		o.units = append(o.units, n)
	}
	if *lines != "" {
		if *lines == "all" {
			o.lines = -1
		} else {
			n, err := strconv.Atoi(strings.TrimPrefix(*lines, "+"))
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "Failed to parse lines '%s'\n", *lines)
				return 1
			}
			o.lines = n
		}
	} else if o.follow {
		o.lines = 10
	}
	var err error
	if *since != "" {
		if o.since, err = ParseJournalTime(*since, now()); err != nil {
			fmt.Fprintf(stderr, "Failed to parse timestamp: %s\n", *since)
			return 1
		}
	}
	if *until != "" {
		if o.until, err = ParseJournalTime(*until, now()); err != nil {
			fmt.Fprintf(stderr, "Failed to parse timestamp: %s\n", *until)
			return 1
		}
	}
	files, err := journalFiles(dir, o.units)
	if err != nil {
		fmt.Fprintf(stderr, "Failed to open journal: %v\n", err)
		return 1
	}
	var all []JournalEntry
	offsets := map[string]int64{}
	for _, f := range files {
		es, off, err := readJournalFrom(f, 0)
		if err != nil {
			fmt.Fprintf(stderr, "Failed to read journal %s: %v\n", f, err)
			return 1
		}
		offsets[f] = off
		all = append(all, es...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	w := bufio.NewWriter(stdout)
	if !o.quiet && len(all) > 0 {
		fmt.Fprintf(w, "-- Logs begin at %s, end at %s. --\n", all[0].Time.Format(journalHeaderTime), all[len(all)-1].Time.Format(journalHeaderTime))
	}
	shown := o.filter(all)
	if o.lines >= 0 {
		shown = lastN(shown, o.lines)
	}
	for _, e := range shown {
		w.WriteString(o.format(e))
	}
	if len(shown) == 0 && !o.quiet {
		w.WriteString("-- No entries --\n")
	}
	if err := w.Flush(); err != nil || !o.follow {
		return 0
	}
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-tick.C:
		}
		if files, err = journalFiles(dir, o.units); err != nil {
			continue
		}
		var fresh []JournalEntry
		for _, f := range files {
			es, off, err := readJournalFrom(f, offsets[f])
			if err != nil {
				continue
			}
			offsets[f] = off
			fresh = append(fresh, es...)
		}
		sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].Time.Before(fresh[j].Time) })
		for _, e := range o.filter(fresh) {
			if _, err := io.WriteString(stdout, o.format(e)); err != nil {
				return 0
			}
		}
	}
}

const journalHeaderTime = "Mon 2006-01-02 15:04:05 MST"

func (o journalOpts) filter(es []JournalEntry) []JournalEntry {
	var out []JournalEntry
	for _, e := range es {
		if !o.since.IsZero() && e.Time.Before(o.since) {
			continue
		}
		if !o.until.IsZero() && e.Time.After(o.until) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (o journalOpts) format(e JournalEntry) string {
	switch o.output {
	case "cat":
		return e.Msg + "\n"
	case "short-iso":
		return e.Time.Format("2006-01-02T15:04:05-0700") + " " + shortRest(e) + "\n"
	default:
		return formatShort(e) + "\n"
	}
}

// formatShort renders an entry in journalctl's short format:
// "Nov 03 21:43:33 host ident[pid]: message".
func formatShort(e JournalEntry) string {
	return e.Time.Local().Format("Jan 02 15:04:05") + " " + shortRest(e)
}

func shortRest(e JournalEntry) string {
	if e.PID > 0 {
		return fmt.Sprintf("%s %s[%d]: %s", e.Host, e.Ident, e.PID, e.Msg)
	}
	return fmt.Sprintf("%s %s: %s", e.Host, e.Ident, e.Msg)
}

func lastN(es []JournalEntry, n int) []JournalEntry {
	if n < len(es) {
		return es[len(es)-n:]
	}
	return es
}

// journalFiles lists the journal files of units (every unit when empty).
func journalFiles(dir string, units []string) ([]string, error) {
	if len(units) > 0 {
		var out []string
		for _, u := range units {
			f := filepath.Join(dir, u+".journal")
			if _, err := os.Stat(f); err == nil {
				out = append(out, f)
			}
		}
		return out, nil
	}
	out, err := filepath.Glob(filepath.Join(dir, "*.journal"))
	if err != nil {
		return nil, fmt.Errorf("list journals in %s: %w", dir, err)
	}
	return out, nil
}

func readJournal(p paths) ([]JournalEntry, error) {
	es, _, err := readJournalFrom(p.journal(), 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return es, err
}

// readJournalFrom reads complete lines of a journal file from offset and
// returns the entries and the offset after the last complete line.
func readJournalFrom(path string, offset int64) ([]JournalEntry, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, fmt.Errorf("seek journal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, offset, fmt.Errorf("read journal: %w", err)
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return nil, offset, nil
	}
	var out []JournalEntry
	for line := range bytes.SplitSeq(data[:end], []byte{'\n'}) {
		var e JournalEntry
		if len(line) == 0 || json.Unmarshal(line, &e) != nil {
			continue
		}
		out = append(out, e)
	}
	return out, offset + int64(end) + 1, nil
}

var relTimeRE = regexp.MustCompile(`^([+-]?)\s*((?:\d+\s*[a-zA-Z]+\s*)+)(ago)?$`)
var relPartRE = regexp.MustCompile(`(\d+)\s*([a-zA-Z]+)`)

// ParseJournalTime parses a journalctl --since/--until value relative to now:
// "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD HH:MM", "YYYY-MM-DD", "HH:MM[:SS]",
// "now", "today", "yesterday", "tomorrow", "@EPOCH", "-5min", "+1h",
// "2h 30min ago". Times are local, as journalctl reads them.
func ParseJournalTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	loc := now.Location()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch s {
	case "now":
		return now, nil
	case "today":
		return day, nil
	case "yesterday":
		return day.AddDate(0, 0, -1), nil
	case "tomorrow":
		return day.AddDate(0, 0, 1), nil
	}
	if strings.HasPrefix(s, "@") {
		sec, err := strconv.ParseFloat(s[1:], 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse timestamp %q: %w", s, err)
		}
		return time.Unix(0, int64(sec*1e9)).In(loc), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), nil
		}
	}
	if m := relTimeRE.FindStringSubmatch(s); m != nil {
		var total time.Duration
		for _, part := range relPartRE.FindAllStringSubmatch(m[2], -1) {
			n, err := strconv.ParseInt(part[1], 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("parse timestamp %q: %w", s, err)
			}
			unit, ok := timeUnits[part[2]]
			if !ok {
				return time.Time{}, fmt.Errorf("parse timestamp %q: unknown unit %q", s, part[2])
			}
			total += time.Duration(n) * unit
		}
		if m[1] == "-" || m[3] == "ago" {
			return now.Add(-total), nil
		}
		if m[1] == "+" {
			return now.Add(total), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse timestamp %q: unrecognised format", s)
}

var timeUnits = map[string]time.Duration{
	"us": time.Microsecond, "usec": time.Microsecond, "ms": time.Millisecond, "msec": time.Millisecond,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	"M": 2629800 * time.Second, "month": 2629800 * time.Second, "months": 2629800 * time.Second,
	"y": 31557600 * time.Second, "year": 31557600 * time.Second, "years": 31557600 * time.Second,
}

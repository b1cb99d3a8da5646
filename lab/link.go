package lab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LinkSpec shapes every link of the lab (each node's, the operator's and
// the backup host's), in both directions: a bandwidth and, where the
// kernel has the netem qdisc, a one-way delay. The zero LinkSpec leaves
// the links unshaped (veth pairs: memory copies, no bandwidth).
type LinkSpec struct {
	// Rate is the bandwidth in bits per second (0: unlimited).
	Rate int64 `json:"rate_bits,omitempty"`
	// Delay is added to every packet leaving each end of a link (0: none).
	Delay time.Duration `json:"delay,omitempty"`
}

// IsZero reports whether the spec shapes nothing.
func (s LinkSpec) IsZero() bool { return s.Rate == 0 && s.Delay == 0 }

// String renders the spec as ParseLink reads it ("1gbit,0.2ms"), "" for
// the zero spec.
func (s LinkSpec) String() string {
	if s.IsZero() {
		return ""
	}
	var parts []string
	if s.Rate > 0 {
		parts = append(parts, formatRate(s.Rate))
	} else {
		parts = append(parts, "unlimited")
	}
	if s.Delay > 0 {
		parts = append(parts, strconv.FormatFloat(float64(s.Delay)/float64(time.Millisecond), 'f', -1, 64)+"ms")
	}
	return strings.Join(parts, ",")
}

// linkText describes a spec for log lines.
func linkText(s LinkSpec) string {
	if s.IsZero() {
		return "unshaped"
	}
	return "shaped " + s.String() + " (tc tbf" + map[bool]string{true: " + netem", false: ""}[s.Delay > 0] + ")"
}

// formatRate renders bits per second in tc's units (gbit, mbit, kbit, bit).
func formatRate(bits int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits%u.n == 0 {
			return strconv.FormatInt(bits/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(bits, 10) + "bit"
}

// ParseLink reads "RATE[,DELAY]": RATE in tc's units (100mbit, 1gbit,
// 10gbit, or "unlimited"), DELAY a Go duration (0.2ms, 200us). "" and
// "off" are the zero spec.
func ParseLink(s string) (LinkSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return LinkSpec{}, nil
	}
	rate, delay, hasDelay := strings.Cut(s, ",")
	var spec LinkSpec
	if rate = strings.TrimSpace(rate); rate != "unlimited" {
		r, err := parseRate(rate)
		if err != nil {
			return spec, fmt.Errorf("link %q: %w", s, err)
		}
		spec.Rate = r
	}
	if hasDelay {
		d, err := time.ParseDuration(strings.TrimSpace(delay))
		if err != nil || d < 0 {
			return spec, fmt.Errorf("link %q: delay %q: want a duration such as 0.2ms or 200us", s, delay)
		}
		spec.Delay = d
	}
	if spec.Rate != 0 && spec.Rate < 1e5 {
		return spec, fmt.Errorf("link %q: rate under 100kbit", s)
	}
	return spec, nil
}

// parseRate reads a rate in tc's units: bit, kbit, mbit, gbit (powers of
// 1000), with a number that may have a fraction.
func parseRate(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(strings.ToLower(s), u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f <= 0 {
				break
			}
			return int64(f * u.mult), nil
		}
	}
	return 0, fmt.Errorf("rate %q: want a number with bit, kbit, mbit or gbit (1gbit, 100mbit) or unlimited", s)
}

// linkQdiscs returns the tc batch that shapes one interface: a token
// bucket (tbf) at the rate, with a 2 ms burst (at least 64 KiB, so that
// GSO packets pass whole) and 10 ms of queue, and under it a netem delay.
// Without a rate the delay is netem alone.
func linkQdiscs(dev string, s LinkSpec) string {
	var b strings.Builder
	switch {
	case s.Rate > 0:
		burst := max(s.Rate/8/500, 64<<10)
		fmt.Fprintf(&b, "qdisc add dev %s root handle 1: tbf rate %dbit burst %d latency 10ms\n", dev, s.Rate, burst)
		if s.Delay > 0 {
			fmt.Fprintf(&b, "qdisc add dev %s parent 1:1 handle 10: netem delay %dus limit 10000\n", dev, s.Delay.Microseconds())
		}
	case s.Delay > 0:
		fmt.Fprintf(&b, "qdisc add dev %s root handle 1: netem delay %dus limit 10000\n", dev, s.Delay.Microseconds())
	}
	return b.String()
}

// errNoNetem explains a delay the kernel cannot add.
var errNoNetem = errors.New("this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), so the lab cannot add latency: give a rate only (e.g. --link 1gbit)")

// shapeLinks applies s to both ends of every veth of the lab (the bridge's
// end shapes what a host receives, the host's end what it sends), after
// removing any shaping there was. The zero spec only removes it.
func shapeLinks(ctx context.Context, rec record, s LinkSpec) error {
	del, add := map[string]*strings.Builder{}, map[string]*strings.Builder{}
	put := func(m map[string]*strings.Builder, ns, text string) {
		if m[ns] == nil {
			m[ns] = &strings.Builder{}
		}
		m[ns].WriteString(text)
	}
	for _, v := range rec.Veths {
		for _, end := range [][2]string{{rec.BrNetns, v.Bridge}, {v.Netns, v.Peer}} {
			put(del, end[0], "qdisc del dev "+end[1]+" root\n")
			if q := linkQdiscs(end[1], s); q != "" {
				put(add, end[0], q)
			}
		}
	}
	// -force goes on after a failed line: an interface without a root
	// qdisc of its own fails the delete, which is fine.
	for ns, b := range del {
		_, _ = run(ctx, b.String(), "tc", "-n", ns, "-force", "-batch", "-")
	}
	var errs []error
	for ns, b := range add {
		if out, err := run(ctx, b.String(), "tc", "-n", ns, "-batch", "-"); err != nil {
			if s.Delay > 0 && strings.Contains(out+err.Error(), "qdisc kind is unknown") {
				return fmt.Errorf("%w (%v)", errNoNetem, err)
			}
			errs = append(errs, fmt.Errorf("%s: tc: %w", ns, err))
		}
	}
	return errors.Join(errs...)
}

// Link returns the shaping of the lab's links (zero when unshaped).
func (l *Lab) Link() LinkSpec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec.Link
}

// SetLink shapes every link of the running lab as s (the zero spec
// removes the shaping) and records it.
func (l *Lab) SetLink(ctx context.Context, s LinkSpec) error {
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	if err := shapeLinks(ctx, rec, s); err != nil {
		return fmt.Errorf("lab %s: shape links %q: %w", l.Name, s, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec.Link = s
	return l.saveLocked()
}

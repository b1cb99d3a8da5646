package elastic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its members in insertion order, the way
// Elasticsearch's XContentBuilder writes them.
type obj []kv

// add appends a member and returns the object for chaining.
func (o obj) add(k string, v any) obj { return append(o, kv{k, v}) }

// jfloat is a float64 printed the way Java's Double.toString prints it
// (100.0 rather than 100).
type jfloat float64

// MarshalJSON writes the object compactly in member order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o, false, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeES renders v as Elasticsearch does: compact, or with ?pretty the
// Jackson layout ("key" : value, two-space indent, empty arrays as [ ]) and a
// trailing newline.
func encodeES(v any, pretty bool) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v, pretty, 0); err != nil {
		return nil, err
	}
	if pretty {
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func writeIndent(b *bytes.Buffer, n int) {
	b.WriteByte('\n')
	for i := 0; i < n; i++ {
		b.WriteString("  ")
	}
}

func writeJSON(b *bytes.Buffer, v any, pretty bool, depth int) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case obj:
		if len(t) == 0 {
			if pretty {
				b.WriteString("{ }")
			} else {
				b.WriteString("{}")
			}
			return nil
		}
		b.WriteByte('{')
		for i, m := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				writeIndent(b, depth+1)
			}
			ks, _ := json.Marshal(m.k)
			b.Write(ks)
			if pretty {
				b.WriteString(" : ")
			} else {
				b.WriteByte(':')
			}
			if err := writeJSON(b, m.v, pretty, depth+1); err != nil {
				return fmt.Errorf("member %q: %w", m.k, err)
			}
		}
		if pretty {
			writeIndent(b, depth)
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := make(obj, 0, len(keys))
		for _, k := range keys {
			o = append(o, kv{k, t[k]})
		}
		return writeJSON(b, o, pretty, depth)
	case []any:
		return writeArray(b, len(t), func(i int) any { return t[i] }, pretty, depth)
	case []obj:
		return writeArray(b, len(t), func(i int) any { return t[i] }, pretty, depth)
	case []string:
		return writeArray(b, len(t), func(i int) any { return t[i] }, pretty, depth)
	case jfloat:
		f := float64(t)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b.WriteString("null")
			return nil
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		b.WriteString(s)
	default:
		raw, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode %T: %w", v, err)
		}
		b.Write(raw)
	}
	return nil
}

func writeArray(b *bytes.Buffer, n int, at func(int) any, pretty bool, depth int) error {
	if n == 0 {
		if pretty {
			b.WriteString("[ ]")
		} else {
			b.WriteString("[]")
		}
		return nil
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if pretty {
			writeIndent(b, depth+1)
		}
		if err := writeJSON(b, at(i), pretty, depth+1); err != nil {
			return err
		}
	}
	if pretty {
		writeIndent(b, depth)
	}
	b.WriteByte(']')
	return nil
}

// humanBytes formats a byte count like ES ByteSizeValue.toString: 225b,
// 88.1kb, 41.2mb, 1gb.
func humanBytes(n int64) string {
	units := []string{"b", "kb", "mb", "gb", "tb", "pb"}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "b"
	}
	f := float64(n)
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return format1(f) + units[u]
}

// format1 prints at most one decimal and drops a trailing ".0", like
// Strings.format1Decimals.
func format1(f float64) string {
	s := strconv.FormatFloat(math.Round(f*10)/10, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// humanMillis formats a duration like ES TimeValue.toString: 13ms, 1.9s, 2.9m.
func humanMillis(ms int64) string {
	switch {
	case ms < 1000:
		return strconv.FormatInt(ms, 10) + "ms"
	case ms < 60_000:
		return format1(float64(ms)/1000) + "s"
	case ms < 3_600_000:
		return format1(float64(ms)/60_000) + "m"
	case ms < 86_400_000:
		return format1(float64(ms)/3_600_000) + "h"
	default:
		return format1(float64(ms)/86_400_000) + "d"
	}
}

// percent formats a ratio as ES recovery percentages do: "87.1%".
func percent(done, total int64) string {
	if total <= 0 {
		return "100.0%"
	}
	return strconv.FormatFloat(math.Floor(float64(done)*1000/float64(total))/10, 'f', 1, 64) + "%"
}

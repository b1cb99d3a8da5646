package cassandra

import (
	"strconv"
	"strings"
)

// StringifyFileSize renders a byte count the way Cassandra's
// FileUtils.stringifyFileSize does (DecimalFormat "#.##", binary units):
// "0 bytes", "96.7 KiB", "4.69 GiB".
func StringifyFileSize(v float64) string {
	const (
		kb = 1024.0
		mb = kb * 1024
		gb = mb * 1024
		tb = gb * 1024
	)
	switch {
	case v >= tb:
		return decimal2(v/tb) + " TiB"
	case v >= gb:
		return decimal2(v/gb) + " GiB"
	case v >= mb:
		return decimal2(v/mb) + " MiB"
	case v >= kb:
		return decimal2(v/kb) + " KiB"
	default:
		return decimal2(v) + " bytes"
	}
}

// decimal2 mimics java.text.DecimalFormat("#.##").
func decimal2(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// tableBuilder re-implements nodetool's TableBuilder: every cell is
// left-justified to its column width (including the last column) and cells
// are joined by the separator.
type tableBuilder struct {
	sep  string
	rows [][]string
}

func (t *tableBuilder) add(cells ...string) { t.rows = append(t.rows, cells) }

// widths computes the column widths of one or more builders sharing columns
// (TableBuilder.SharedTable).
func sharedWidths(tables ...*tableBuilder) []int {
	var w []int
	for _, t := range tables {
		for _, r := range t.rows {
			for i, c := range r {
				if i >= len(w) {
					w = append(w, 0)
				}
				if len(c) > w[i] {
					w[i] = len(c)
				}
			}
		}
	}
	return w
}

func (t *tableBuilder) render(widths []int) string {
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			if i > 0 {
				b.WriteString(t.sep)
			}
			b.WriteString(c)
			if i < len(widths) {
				b.WriteString(strings.Repeat(" ", widths[i]-len(c)))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

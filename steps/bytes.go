package steps

import "fmt"

// HumanBytes formats a byte count with binary units and one decimal
// (1.5 GiB, 60.0 MiB), as every face shows sizes. (go-humanize's IBytes
// drops the decimal from 10 up, "60 MiB": not the same text.)
func HumanBytes(n int64) string {
	const k = 1024
	if n < k {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= k
		if f < k {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f PiB", f/k)
}

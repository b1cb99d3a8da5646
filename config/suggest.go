package config

import "strings"

// suggest returns the candidate closest to got (optimal string alignment
// distance, case-insensitive) when it is close enough to be a likely typo.
func suggest(got string, candidates []string) (string, bool) {
	g := strings.ToLower(got)
	best, bestD := "", 3
	for _, c := range candidates {
		if d := osaDistance(g, c); d < bestD {
			best, bestD = c, d
		}
	}
	// For very short keys a distance of 2 is a different word, not a typo.
	if best == "" || (bestD == 2 && len([]rune(g)) <= 3) {
		return "", false
	}
	return best, true
}

// osaDistance is the Damerau–Levenshtein distance restricted to adjacent
// transpositions (optimal string alignment), over runes.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Keys this long are never typos of ours; skip the quadratic table.
		return 1 << 30
	}
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, rows[i-2][j-2]+1)
			}
			rows[i][j] = v
		}
	}
	return rows[len(ra)][len(rb)]
}

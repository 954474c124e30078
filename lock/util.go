package lock

import (
	"maps"
	"slices"
)

// sortedValues returns m's values ordered by key(v), skipping nil values.
func sortedValues[V any](m map[string]*V, key func(*V) string) []*V {
	out := make([]*V, 0, len(m))
	for _, v := range m {
		if v != nil {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *V) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

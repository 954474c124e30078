package hclguard

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// Limits caps the values expressions may build.
type Limits struct {
	// MaxString is the longest string, in bytes.
	MaxString int
	// MaxElements is the most elements of a list, set, tuple or map, or
	// attributes of an object.
	MaxElements int
	// MaxDepth is how deeply values may nest in one another.
	MaxDepth int
	// MaxWeight is the largest Weight of one value: a list may hold 10,000
	// references to one 1 MiB string at little cost, but printing or
	// encoding it would not be cheap.
	MaxWeight int64
	// MaxNumberExp is the largest binary exponent of a number's magnitude
	// (and the smallest negative one): about 10^±19,728 by default.
	MaxNumberExp int
	// MaxDigits is the longest run of digits a string may hold: converting
	// a string to a number costs time quadratic in its digits (seconds for
	// a million), and expressions convert strings to numbers implicitly.
	MaxDigits int
	// Budget is the total Weight of the values one evaluation (from one
	// Guard.Reset to the next) may build in template interpolations, for
	// expression elements and function results.
	Budget int64
}

// DefaultLimits are far above what configurations and templates use: a
// var file's largest values are certificates and scripts of some KB.
var DefaultLimits = Limits{
	MaxString:    1 << 20,
	MaxElements:  10_000,
	MaxDepth:     64,
	MaxWeight:    16 << 20,
	MaxNumberExp: 1 << 16,
	MaxDigits:    4096,
	Budget:       32 << 20,
}

// LimitError is a value that exceeds a limit. Its message says which limit,
// never what the value holds.
type LimitError struct {
	What string // a noun phrase, e.g. "a string longer than 1 MiB"
}

func (e *LimitError) Error() string { return e.What }

// elementWeight is what each element or attribute adds to a value's Weight,
// beyond its strings' bytes: about what it costs in memory and in text.
const elementWeight = 16

// Weight estimates what a value costs to hold once it is copied, printed or
// encoded: its strings' bytes, and elementWeight per value in it. Unknown
// and null values weigh elementWeight. It stops counting once the weight
// passes stop.
func Weight(v cty.Value, stop int64) int64 {
	var w int64
	weigh(v, &w, stop, 0)
	return w
}

func weigh(v cty.Value, w *int64, stop int64, depth int) {
	*w += elementWeight
	if *w > stop || depth > 1000 {
		return
	}
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		*w += int64(len(v.AsString()))
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			weigh(e, w, stop, depth+1)
			if *w > stop {
				return
			}
		}
	}
}

// Check reports the first limit v exceeds, as a *LimitError.
func (l Limits) Check(v cty.Value) error {
	if err := l.check(v, 0); err != nil {
		return err
	}
	if w := Weight(v, l.MaxWeight); w > l.MaxWeight {
		return &LimitError{What: fmt.Sprintf("more than %s in all", size(l.MaxWeight))}
	}
	return nil
}

func (l Limits) check(v cty.Value, depth int) error {
	if depth > l.MaxDepth {
		return &LimitError{What: fmt.Sprintf("values nested more than %d levels deep", l.MaxDepth)}
	}
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		if len(s) > l.MaxString {
			return &LimitError{What: fmt.Sprintf("a string longer than %s", size(int64(l.MaxString)))}
		}
		if len(s) > l.MaxDigits && longDigitRun(s, l.MaxDigits) {
			return &LimitError{What: fmt.Sprintf("a run of more than %d digits", l.MaxDigits)}
		}
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if exp := bf.MantExp(nil); !bf.IsInf() && (exp > l.MaxNumberExp || exp < -l.MaxNumberExp) {
			return &LimitError{What: fmt.Sprintf("a number of more than %d bits of magnitude", l.MaxNumberExp)}
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		if n := v.LengthInt(); n > l.MaxElements {
			return &LimitError{What: fmt.Sprintf("a collection of more than %d elements", l.MaxElements)}
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if err := l.check(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// longDigitRun reports whether s has more than n consecutive digits.
func longDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if run++; run > n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// size formats a byte count for messages.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

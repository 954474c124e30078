package hclguard

import (
	"fmt"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Guard enforces Limits on what expressions build, over a sequence of
// evaluations: Reset starts one, and every value a template interpolation, a
// for expression element or a function call builds until the next Reset is
// weighed against Limits.Budget. Once the budget is spent the first error is
// reported and everything else in the evaluation is unknown, so the rest
// costs little. Each value is also checked against the per-value limits.
//
// A Guard is safe for concurrent use, but evaluations that share one share
// its budget: give each sequential evaluation its own.
type Guard struct {
	Limits Limits

	mu    sync.Mutex
	used  int64
	spent bool
}

// New returns a Guard enforcing l.
func New(l Limits) *Guard { return &Guard{Limits: l} }

// Reset starts a new evaluation with the whole budget.
func (g *Guard) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.used, g.spent = 0, false
}

// Spent reports whether the current evaluation ran out of budget, or built
// a value over the limits.
func (g *Guard) Spent() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spent
}

// Check is Limits.Check: it checks v against the per-value limits.
func (g *Guard) Check(v cty.Value) error { return g.Limits.Check(v) }

// charge adds v's weight to the evaluation and checks v. The first error of
// an evaluation spends it.
func (g *Guard) charge(v cty.Value) error {
	err := g.Limits.Check(v)
	w := max(Weight(v, g.Limits.Budget), minCharge)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.spent {
		return errSpent
	}
	g.used += w
	if err == nil && g.used > g.Limits.Budget {
		err = &LimitError{What: fmt.Sprintf("more than %s of values in one evaluation", size(g.Limits.Budget))}
	}
	if err != nil {
		g.spent = true
	}
	return err
}

// minCharge is the least an evaluated element costs, so that loops whose
// bodies build nothing still spend the budget in bounded time.
const minCharge = 256

// errSpent is what charge returns once an evaluation's error was reported.
var errSpent = fmt.Errorf("evaluation stopped by an earlier limit")

// Instrument rewrites the expressions under node in place so that what they
// build is charged to g: every element and key of a for expression and
// every interpolation of a template. Evaluating them still gives the same
// values, diagnostics and references (Variables, hclsyntax.Walk); once g is
// spent they evaluate to unknown values without doing the work. It is safe
// to instrument a tree again, with the same or another Guard.
func (g *Guard) Instrument(node hclsyntax.Node) {
	if node == nil {
		return
	}
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *guardedExpr:
			e.g = g
		case *hclsyntax.ForExpr:
			if e.KeyExpr != nil {
				e.KeyExpr = g.wrap(e.KeyExpr)
			}
			e.ValExpr = g.wrap(e.ValExpr)
		case *hclsyntax.TemplateExpr:
			for i, p := range e.Parts {
				if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
					e.Parts[i] = g.wrap(p)
				}
			}
		}
		return nil
	})
}

func (g *Guard) wrap(e hclsyntax.Expression) hclsyntax.Expression {
	if w, ok := e.(*guardedExpr); ok {
		w.g = g
		return w
	}
	return &guardedExpr{ParenthesesExpr: &hclsyntax.ParenthesesExpr{Expression: e, SrcRange: e.Range()}, g: g}
}

// guardedExpr charges what its expression builds to a Guard. It embeds a
// ParenthesesExpr, a transparent node, so that walks of the tree still visit
// the expression it wraps.
type guardedExpr struct {
	*hclsyntax.ParenthesesExpr
	g *Guard
}

func (e *guardedExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if e.g.Spent() {
		return cty.DynamicVal, nil
	}
	v, diags := e.Expression.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	if err := e.g.charge(v); err != nil {
		if err == errSpent {
			return cty.DynamicVal, diags
		}
		return cty.DynamicVal, append(diags, e.g.Limits.TooLarge(err, e.Range()))
	}
	return v, diags
}

// TooLarge is the diagnostic for err, a value over the limits, at rng.
func (l Limits) TooLarge(err error, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value too large",
		Detail: fmt.Sprintf("This expression builds %s. hybrid caps what expressions build (strings of %s, collections of %d elements, %s of values in one evaluation), so that a configuration cannot exhaust memory or time. Build smaller values.",
			err, size(int64(l.MaxString)), l.MaxElements, size(l.Budget)),
		Subject: rng.Ptr(),
	}
}

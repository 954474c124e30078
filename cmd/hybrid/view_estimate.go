package main

import (
	"fmt"

	"github.com/hybridcore/hybrid/plan"
)

// estimateSentence says what applying the plan costs in time, from its
// estimate: "about 2h35m of builds, about 1h20m on 2 slots; 1 build never
// ran: duration unknown". It is "" when the plan runs no build, or was
// saved by a hybrid that made no estimate.
func estimateSentence(p *plan.Plan) string {
	e := p.Estimate
	if e == nil {
		return ""
	}
	builds, neverRan := 0, 0
	for _, c := range p.Changes {
		if c.Type != plan.TypeBuild || (c.Action != plan.Create && c.Action != plan.Update) {
			continue
		}
		builds++
		if c.LastDurationSeconds == nil && c.Action == plan.Create {
			neverRan++
		}
	}
	if builds == 0 {
		return ""
	}
	unknown := ""
	switch {
	case e.Unknown == 0:
	case e.Unknown == neverRan:
		unknown = fmt.Sprintf("%s never ran: duration unknown", quantity(e.Unknown, "build", "builds"))
	default:
		unknown = fmt.Sprintf("%s with no recorded duration", quantity(e.Unknown, "build", "builds"))
	}
	if e.Unknown == builds {
		return unknown
	}
	s := fmt.Sprintf("about %s of builds, about %s on %s", approxDuration(e.BuildSeconds), approxDuration(e.WallSeconds), quantity(e.Parallelism, "slot", "slots"))
	if unknown != "" {
		s += "; " + unknown
	}
	return s
}

// approxDuration shows a duration of whole seconds the way people quote
// build times: seconds under ten minutes ("45s", "7m30s"), then minutes
// ("45m"), then hours and minutes ("2h10m", "3h"), rounded to the nearest
// unit shown.
func approxDuration(secs int64) string {
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", max(secs, 0))
	case secs < 10*60:
		if secs%60 == 0 {
			return fmt.Sprintf("%dm", secs/60)
		}
		return fmt.Sprintf("%dm%ds", secs/60, secs%60)
	}
	mins := (secs + 30) / 60
	if mins < 60 {
		return fmt.Sprintf("%dm", mins)
	}
	if mins%60 == 0 {
		return fmt.Sprintf("%dh", mins/60)
	}
	return fmt.Sprintf("%dh%dm", mins/60, mins%60)
}

// lastDuration is a build's last recorded duration for people, "" when
// unknown.
func lastDuration(c *plan.Change) string {
	if c.LastDurationSeconds == nil {
		return ""
	}
	return approxDuration(*c.LastDurationSeconds)
}

// quantity is "1 build" or "3 builds".
func quantity(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

package packer

import "strconv"

// Artifact is one artifact packer reported for a build on its
// machine-readable output. Packer lists the builder's artifact and then one
// per post-processor step that produced one (the manifest post-processor
// passes its input through), each with its own Index.
type Artifact struct {
	// Target is the build, "builder.name" ("null.linux-a").
	Target string
	// Index is packer's artifact number within the build.
	Index int
	// BuilderID identifies the builder that made it ("packer.file").
	BuilderID string
	// ID is the artifact's ID (an AMI ID, a VM name, "Null").
	ID string
	// String is packer's description of it.
	String string
	// Files are the artifact's files as packer printed them.
	Files []string
}

// artifactCollector assembles Artifacts from "artifact" events. An artifact
// is kept once its "end" field arrives, so one cut off by a killed packer is
// not reported half-filled.
type artifactCollector struct {
	open map[artifactKey]*openArtifact
	done []Artifact
}

type openArtifact struct {
	Artifact
	isNil bool // the post-processor step produced no artifact
}

type artifactKey struct {
	target string
	index  int
}

// add feeds one event; events of other types are ignored.
func (c *artifactCollector) add(e Event) {
	f, ok := e.ArtifactField()
	if !ok {
		return
	}
	k := artifactKey{e.Target, f.Index}
	if c.open == nil {
		c.open = make(map[artifactKey]*openArtifact)
	}
	a := c.open[k]
	if a == nil {
		a = &openArtifact{Artifact: Artifact{Target: e.Target, Index: f.Index}}
		c.open[k] = a
	}
	value := func(i int) string {
		if i < len(f.Values) {
			return f.Values[i]
		}
		return ""
	}
	switch f.Key {
	case "builder-id":
		a.BuilderID = value(0)
	case "id":
		a.ID = value(0)
	case "string":
		a.String = value(0)
	case "files-count":
		if n, err := strconv.Atoi(value(0)); err == nil && n > 0 && n <= 1<<16 {
			a.Files = make([]string, 0, n)
		}
	case "file":
		if len(f.Values) >= 2 {
			a.Files = append(a.Files, f.Values[1])
		}
	case "nil":
		a.isNil = true
	case "end":
		if !a.isNil {
			c.done = append(c.done, a.Artifact)
		}
		delete(c.open, k)
	}
}

// artifacts returns the completed artifacts in the order packer ended them.
func (c *artifactCollector) artifacts() []Artifact { return c.done }

package templates

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Source is a `source "<type>" "<name>" { ... }` block: a configured
// builder. Its body belongs to the builder plugin and is not read.
type Source struct {
	// Type is the builder, e.g. "vsphere-iso".
	Type string
	// Name is the source's name, e.g. "linux-ubuntu".
	Name string
	// DeclRange covers the block header.
	DeclRange hcl.Range
	// NameRange covers the name label.
	NameRange hcl.Range
}

// Address returns "<type>.<name>", the form packer's -only accepts when the
// build block has no name.
func (s Source) Address() string {
	return s.Type + "." + s.Name
}

func (d *decoder) decodeSource(block *hcl.Block) hcl.Diagnostics {
	s := Source{
		Type:      block.Labels[0],
		Name:      block.Labels[1],
		DeclRange: block.DefRange,
		NameRange: block.LabelRanges[1],
	}
	if prev, dup := d.sources[s.Address()]; dup {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate source block",
			Detail: fmt.Sprintf("source %q %q is already declared at %s. Rename or remove one of them.",
				s.Type, s.Name, position(prev.DeclRange)),
			Subject: block.DefRange.Ptr(),
		}}
	}
	d.sources[s.Address()] = s
	d.t.Sources = append(d.t.Sources, s)
	return nil
}

// splitSourceAddress splits "source.<type>.<name>" or "<type>.<name>" into
// its type and name, each of which must be an HCL identifier.
func splitSourceAddress(s string) (typ, name string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 3 && parts[0] == "source" {
		parts = parts[1:]
	}
	if len(parts) != 2 || !hclsyntax.ValidIdentifier(parts[0]) || !hclsyntax.ValidIdentifier(parts[1]) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

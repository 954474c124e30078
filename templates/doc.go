// Package templates reads the user's packer templates without running packer.
//
// It owns the parts of a packer HCL2 template directory that hybrid reasons
// about before any build: the packer files themselves (*.pkr.hcl and
// *.pkr.json), their `source` blocks, the sources each `build` block uses,
// the declared input variables (type, default, sensitivity), the
// `packer { required_version required_plugins }` settings, the naming
// convention for builder addresses (source.<builder>.<os-family>-<words>),
// and packer var files (*.pkrvars.hcl, *.pkrvars.hcl.example,
// *.pkrvars.json).
//
// Templates are decoded with the hcl library and partial schemas, so every
// construct packer accepts (locals, data sources, provisioners,
// hcp_packer_registry...) is tolerated and left alone. Nothing here evaluates
// an expression that needs packer's context (variables, locals, path.cwd,
// functions): only literals are read, and a variable default that is not a
// literal is recorded as present with an unknown value.
//
// The package reports problems as hcl.Diagnostics pointing at the template
// line; the caller's *hclparse.Parser keeps the file bytes so the diagnostics
// print with snippets. It must not import other hybrid packages, and it
// writes no files.
package templates

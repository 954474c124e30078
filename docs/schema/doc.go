// Package schema holds the JSON Schemas (draft 2020-12) of hybrid's
// machine-readable output, the files docs/json.md describes: the plan
// document (plan -json, plan -out, show -json PLANFILE), the event stream
// (apply -json, and any command's errors under -json), the validate -json
// document, and the diagnostic object all three share.
//
// The schemas are closed (no property they do not list), so hybrid's own
// tests fail when an output grows a property nobody documented. Consumers
// should read them the other way round: a later minor format_version may
// add properties, which a consumer ignores.
//
// The package embeds the files so programs can validate hybrid's output
// without fetching anything. It owns no output itself and must not import
// the rest of hybrid: the schemas describe what the commands print, and
// tests hold the two together.
package schema

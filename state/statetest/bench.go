package statetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hybridcore/hybrid/state"
)

// BenchBuild is build i as apply records it, in rebuild round round: a dozen inputs, one of them
// its own template tree of ten files, and an artifact.
func BenchBuild(i, round int) (string, *state.Build, map[string]map[string]string) {
	env, image := fmt.Sprintf("env%d", i%4), fmt.Sprintf("image-%05d", i)
	digest := func(what string) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", what, i, round)))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	tree := digest("template")
	files := map[string]string{}
	for f := range 10 {
		files[fmt.Sprintf("templates/%s/file%d.pkr.hcl", image, f)] = digest(fmt.Sprintf("file%d", f))
	}
	inputs := map[string]string{"template": tree, "render": digest("render"), "packer": "1.9.4"}
	for k := range 9 {
		inputs[fmt.Sprintf("file:scripts/step%d.sh", k)] = digest(fmt.Sprintf("script%d", k))
	}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	rec := &state.Build{
		Env: env, Image: image, Fingerprint: digest("fingerprint"), Inputs: inputs, Status: state.StatusSucceeded,
		Artifacts: []state.Artifact{{BuilderID: "packer.file", ID: image, String: "Stored file: output/" + image + ".txt",
			Files: []string{"output/" + env + "/" + image + ".txt"}}},
		ManifestDigest: digest("manifest"), PackerRunUUID: "9b1f7a52-8c0e-4f5e-a6a3-0d4c2b1e7f90",
		Started: at, Finished: at.Add(time.Minute), Duration: time.Minute,
		LogPath: "logs/" + env + "/" + image + "/20240506T070809.000Z.log",
	}
	return state.BuildAddr(env, image), rec, map[string]map[string]string{tree: files}
}

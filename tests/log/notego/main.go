// Command notego drives Go's golang.org/x/mod/sumdb/note, the reference implementation of
// C2SP signed notes, so that tests/log/test_note_go.py can check our notes against it.
//
// It builds offline in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o notego main.go
//
// Usage:
//
//	notego verify <verifier-key-file> <note-file>
//	    Open the note with the one verifier key. On success print the note text to
//	    stdout, and one "verified <name>+<hash>" or "unverified <name>+<hash>" line
//	    per signature to stderr. Exit codes: 1 malformed note (or any other error
//	    from note.Open), 2 no signature by the key (note.UnverifiedNoteError),
//	    3 a signature by the key does not verify (note.InvalidSignatureError).
//	notego sign <signer-key> <text-file>
//	    Sign the text (a "PRIVATE+KEY+..." string) and print the signed note.
//	notego keygen <name> <seed-hex>
//	    Print the signer key and the verifier key, one a line, for the Ed25519 key
//	    with the given 32-byte seed (note.GenerateKey reading the seed as its
//	    randomness).
//
// Exit code 4 means bad usage, an unreadable file or a bad key.
package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

const (
	exitMalformed  = 1
	exitUnverified = 2
	exitInvalid    = 3
	exitUsage      = 4
)

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notego: "+format+"\n", args...)
	os.Exit(code)
}

func readFile(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(exitUsage, "%v", err)
	}
	return data
}

func verify(keyFile, noteFile string) {
	// The key endpoint serves the key with a trailing newline.
	verifier, err := note.NewVerifier(strings.TrimSpace(string(readFile(keyFile))))
	if err != nil {
		fail(exitUsage, "verifier key: %v", err)
	}
	n, err := note.Open(readFile(noteFile), note.VerifierList(verifier))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		fail(exitUnverified, "%v", err)
	case errors.As(err, &invalid):
		fail(exitInvalid, "%v", err)
	case err != nil:
		fail(exitMalformed, "%v", err)
	}
	for _, sig := range n.Sigs {
		fmt.Fprintf(os.Stderr, "verified %s+%08x\n", sig.Name, sig.Hash)
	}
	for _, sig := range n.UnverifiedSigs {
		fmt.Fprintf(os.Stderr, "unverified %s+%08x\n", sig.Name, sig.Hash)
	}
	os.Stdout.WriteString(n.Text)
}

func sign(signerKey, textFile string) {
	signer, err := note.NewSigner(signerKey)
	if err != nil {
		fail(exitUsage, "signer key: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(readFile(textFile))}, signer)
	if err != nil {
		fail(exitMalformed, "%v", err)
	}
	os.Stdout.Write(msg)
}

func keygen(name, seedHex string) {
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != 32 {
		fail(exitUsage, "seed must be 64 hex digits")
	}
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), name)
	if err != nil {
		fail(exitUsage, "%v", err)
	}
	fmt.Println(skey)
	fmt.Println(vkey)
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 3 && args[0] == "verify":
		verify(args[1], args[2])
	case len(args) == 3 && args[0] == "sign":
		sign(args[1], args[2])
	case len(args) == 3 && args[0] == "keygen":
		keygen(args[1], args[2])
	default:
		fail(exitUsage, "usage: notego verify <verifier-key-file> <note-file> | "+
			"sign <signer-key> <text-file> | keygen <name> <seed-hex>")
	}
}

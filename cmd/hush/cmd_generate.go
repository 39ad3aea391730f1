package main

import (
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
)

func (a *app) generateCommand() *cobra.Command {
	var o generate.Options
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "print a new password, passphrase or token",
		Long: `Print a new random value. The default is a 24-character password of letters,
digits and shell-safe symbols (about 149 bits). --words N makes a passphrase
of EFF diceware words (--words 10, the default with --separator: about 129 bits; 6 words: 77); --bytes N makes a token.`,
		Example: `  hush generate
  hush generate --length 32 --no-symbols
  hush generate --words 6
  hush generate --bytes 32 --encoding base64
  hush generate | hush set app/prod/DB_PASSWORD -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			// 0 would mean "the default" to the generator: given on the
			// command line it is a mistake.
			for _, f := range []struct {
				name string
				n    int
			}{{"length", o.Length}, {"words", o.Words}, {"bytes", o.Bytes}} {
				if fl.Changed(f.name) && f.n <= 0 {
					return usage.Errorf("--%s must be a positive number", f.name)
				}
			}
			switch {
			case fl.Changed("words") && fl.Changed("bytes"):
				return usage.Errorf("--words and --bytes make different things: give one")
			case fl.Changed("words") || fl.Changed("separator"):
				o.Kind = generate.Passphrase
			case fl.Changed("bytes") || fl.Changed("encoding"):
				o.Kind = generate.Token
			}
			r, err := generate.New(o)
			if err != nil {
				return usage.Wrap(err)
			}
			defer crypto.Wipe(r.Value)
			if a.jsonOut {
				return a.writeJSON(map[string]any{"kind": r.Kind, "value": string(r.Value), "entropy_bits": r.EntropyBits})
			}
			a.stdout.Write(r.Value)
			a.printf("\n")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Length, "length", 24, "password length (8 to 1024)")
	f.BoolVar(&o.NoSymbols, "no-symbols", false, "password of letters and digits only")
	f.IntVar(&o.Words, "words", 10, "passphrase of N words (3 to 64; 10 words ≈ 129 bits)")
	f.StringVar(&o.Separator, "separator", "-", "passphrase word separator")
	f.IntVar(&o.Bytes, "bytes", 32, "token of N random bytes (16 to 4096)")
	f.StringVar(&o.Encoding, "encoding", "hex", "token encoding: hex, base64 or base64url")
	return cmd
}

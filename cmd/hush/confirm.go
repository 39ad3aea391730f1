package main

import (
	"fmt"

	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
)

// confirm asks before something that cannot be undone. On a terminal it
// asks "question [y/N]"; anything but y or yes stops with nothing done.
// Without a terminal a script must say --yes: otherwise a usage error
// names the flag, so a forgotten confirmation never passes in silence.
func (a *app) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	ok, err := prompt.Confirm(question)
	if err != nil {
		return usage.Errorf("%s? There is no terminal to ask on: add --yes to do it (it cannot be undone)", question)
	}
	if !ok {
		return fmt.Errorf("not confirmed: nothing changed")
	}
	return nil
}

package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks before something that cannot be undone. On a terminal it
// asks "question [y/N]"; anything but y or yes stops with nothing done.
// Without a terminal a script must say --yes: otherwise a usage error
// names the flag, so a forgotten confirmation never passes in silence.
func (a *app) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	t, err := openTTY()
	if err != nil {
		return usagef("%s? There is no terminal to ask on: add --yes to do it (it cannot be undone)", question)
	}
	defer t.Close()
	t.printf("%s? This cannot be undone. [y/N] ", question)
	line, _ := bufio.NewReader(t.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not confirmed: nothing changed")
}

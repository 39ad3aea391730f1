package vault

import "path/filepath"

// Windows: %LOCALAPPDATA%\hush. Local, not Roaming (%APPDATA%): a roaming
// profile would copy the vault to every machine the user logs in to,
// outside hush's own sync, and two copies edited apart would both be
// written back.
func defaultHome(getenv func(string) string) (string, error) {
	if d := getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "hush"), nil
	}
	if h := getenv("USERPROFILE"); h != "" {
		return filepath.Join(h, "AppData", "Local", "hush"), nil
	}
	return "", ErrNoHome
}

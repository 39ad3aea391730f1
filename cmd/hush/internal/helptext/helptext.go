// Package helptext holds the long help of hush's commands: what `hush CMD
// --help` and the man pages made from it say about each command, its flags in
// sentences, and its examples. The command files in package main keep the
// wiring (flags, argument checks, which package does the work, what is
// printed); the words a person reads before running a command are here,
// each text whole, so that they are read and reviewed together.
package helptext

// Audit is the long help of `hush audit`.
const Audit = `Show the vault's audit log: every get, run, export, set, rotate, revoke, rm
(and the terminal UI's reveal and copy), and every short-lived database login
made, dropped or failed (lease, lease-drop, lease-cleanup), with time,
device and result; never a value. Entries are sealed and chained by hash: the whole chain is checked
every time the log is read, and --verify says so explicitly, naming the
first entry that was edited, removed, reordered or cut off. The vault
anchors its log at every change, so a log that was cut, emptied, deleted
or replaced by an older copy, and a vault that went back in time, are
found too; reads made since the last change are not anchored (see
docs/security.md).`

// Credential is the long help of `hush credential`.
const Credential = `Credential helpers, so git and docker keep their logins in the vault.

git:    git config --global credential.helper hush
        (with git-credential-hush on PATH: a link to hush), or
        git config --global credential.helper '!hush credential git'
docker: "credsStore": "hush" in ~/.docker/config.json
        (with docker-credential-hush on PATH: a link to hush)

A locked vault is unlocked as for any command (remembered key,
HUSH_PASSPHRASE, a prompt on the terminal); with none of them the helper
fails at once with "vault is locked", so git or docker never hang.
Every answer and change is recorded in the audit log.`

// GitCredential is the long help of `hush credential git`.
const GitCredential = `git's credential helper (git-credential(1)). A host's login is two secrets,
git/HOST/username and git/HOST/password (HOST with "_" for ":", e.g.
git/example.com_8443); --folder FOLDER uses FOLDER/username and
FOLDER/password for every host instead.

get prints the login when the vault has one (and nothing when not, so git
asks you); store keeps the login git used successfully; erase forgets a
login the server refused.`

// DockerCredential is the long help of `hush credential docker`.
const DockerCredential = `docker's credential helper (the docker-credential-helpers protocol: the
server URL or a JSON login on stdin, JSON on stdout). Each registry's login
is one secret in the folder (default docker), named after the server URL,
holding {"ServerURL","Username","Secret"}.`

// Dynamic is the long help of `hush dynamic`.
const Dynamic = `A dynamic source holds a PostgreSQL admin URL (sealed like any secret), a role
template and a TTL. ` + "`hush run --dynamic VAR=NAME`" + ` makes a login of its own for the
program from it, puts its URL in VAR, and drops the login when the program
ends. The admin URL itself is never given to a program. See docs/dynamic.md.`

// DynamicAdd is the long help of `hush dynamic add`.
const DynamicAdd = `Store a dynamic source under NAME: the PostgreSQL admin URL is the secret's
value, sealed like any other; the role template and the TTL are its metadata.

The admin URL comes from --postgres: "-" reads it from stdin (recommended: an
argument is visible to ps and stays in your shell history), and without
--postgres hush asks for it, hidden. Its role needs CREATEROLE (or superuser)
and the right to grant what the template grants.

The template is SQL run, in one transaction with the CREATE ROLE, for every
new login; {{name}} stands for the login (a quoted identifier hush makes,
hush_ and 16 hex digits) and {{database}} for the admin URL's database.
Other placeholders are refused. --check connects now and runs the template
for a throw-away login in a transaction that is rolled back.`

// DynamicAddExample are examples of `hush dynamic add`.
const DynamicAddExample = `  hush dynamic add db/prod --postgres - --role-template 'GRANT app_readonly TO {{name}}' < admin-url.txt
  hush dynamic add db/dev --role-template 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO {{name}}' --ttl 15m --check`

// DynamicLeases is the long help of `hush dynamic leases`.
const DynamicLeases = `List the leases: logins hush made for a program and has not yet seen dropped,
with their source, expiry and the hush process that holds them.

A lease is left over when its hush is gone (killed, or its database was down
when the program ended). PostgreSQL refuses the login after its expiry
anyway; --cleanup drops it for good, and so does every later
` + "`hush run --dynamic`" + `. The leases of a running hush are left alone.`

// DynamicRevoke is the long help of `hush dynamic revoke`.
const DynamicRevoke = `Drop logins made from the dynamic source NAME: all of them (--all), or one
(--role). Their sessions are ended, also those of programs still running
under another hush, which then finds the login gone.`

// DynamicForget is the long help of `hush dynamic forget`.
const DynamicForget = `Remove a lease from the vault without touching the database: for a login
whose server no longer exists. If it does exist, drop it yourself
(DROP ROLE "hush_..."); PostgreSQL refuses it after its expiry anyway.`

// Generate is the long help of `hush generate`.
const Generate = `Print a new random value. The default is a 24-character password of letters,
digits and shell-safe symbols (about 149 bits). --words N makes a passphrase
of EFF diceware words (--words 10, the default with --separator: about 129 bits; 6 words: 77); --bytes N makes a token.`

// GenerateExample are examples of `hush generate`.
const GenerateExample = `  hush generate
  hush generate --length 32 --no-symbols
  hush generate --words 6
  hush generate --bytes 32 --encoding base64
  hush generate | hush set app/prod/DB_PASSWORD -`

// Rollback is the long help of `hush rollback`.
const Rollback = `Restore the value of version N as a new version. The secret keeps the
metadata it has now (note, tags, type, rotation, rotator, expiry);
--with-metadata brings back version N's metadata too. A removed secret comes
back.`

// Init is the long help of `hush init`.
const Init = `Create the vault. The passphrase is asked twice on the terminal, or taken from
HUSH_NEW_PASSPHRASE, HUSH_PASSPHRASE or --passphrase-file.

Without --kdf-memory/--kdf-passes, the cost of deriving the key (Argon2id,
64 MiB, 4 lanes) is raised until one unlock takes about half a second on
this machine.`

// Import is the long help of `hush import`.
const Import = `Import every KEY=value of a file as the secret FOLDER/KEY, in one transaction:
all or nothing. The format follows the file's extension (.json, .yaml/.yml,
anything else dotenv) unless --format says otherwise; "-" reads stdin.
Existing secrets get a new version; unchanged ones are left alone. In a
dotenv file ${A} and $B expand to keys defined earlier in the same file
(the environment takes part only with --expand-env); --no-expand reads
every $ literally.

--from FORMAT reads another store's export instead (docs/import.md says how
to make each and what carries over):
  1pux           1Password export (.1pux)
  1password-csv  1Password CSV export
  bitwarden      Bitwarden JSON export, plain or password-protected
  keepassxc-csv  KeePassXC CSV export
  kdbx           a KeePass database, read through keepassxc-cli
  pass           a pass or gopass (gpg) password store: FILE is its folder
  sops           a SOPS-encrypted dotenv, JSON or YAML file (runs sops -d)
  vault-kv       HashiCorp Vault / OpenBao: vault kv get -format=json, or a tree
An item becomes FOLDER/TITLE (its password or main secret), with
FOLDER/TITLE.totp and FOLDER/TITLE.FIELD for its TOTP seed and hidden
fields; username, URLs and notes go into the note. A name that already
exists is refused unless --overwrite (which adds a version). What could not
be brought is counted by reason; --dry-run shows every name, never a value.`

// ImportExample are examples of `hush import`.
const ImportExample = `  hush import --into app/dev .env
  hush import --into app/prod --format json secrets.json
  hush import --from 1pux --into moved/1password --dry-run export.1pux
  hush import --from bitwarden --password-file pw.txt bitwarden_export.json
  hush import --from pass --into moved ~/.password-store`

// Export is the long help of `hush export`.
const Export = `Print the secrets directly in FOLDER (not in its sub-folders), each under the
last segment of its name, as ` + "`hush run --from FOLDER`" + ` would inject them.
The output is plaintext: mind where it goes. -o writes a file readable only by you.`

// ExportExample are examples of `hush export`.
const ExportExample = `  hush export --format dotenv app/dev > .env.backup
  hush export --format json -o secrets.json app/prod
  eval "$(hush export --format shell app/dev)"`

// Revoke is the long help of `hush revoke`.
const Revoke = `Mark a secret's current value as revoked. get, run, hush:// references and
export refuse it from then on, naming the reason; its history stays. Setting
a new value (hush set, hush rotate) makes the secret usable again.`

// Due is the long help of `hush due`.
const Due = `List the secrets whose rotation is due, whose expiry date comes, or whose
certificate ends, soonest first. Exits 1 when anything is overdue, so CI and
cron can gate on it.`

// Rotate is the long help of `hush rotate`.
const Rotate = `Write a new version of a secret and restart its rotation clock.

  --generate    a new 24-character password
  --with CMD    run CMD (with sh -c); it gets the old value on stdin and the
                secret's name in HUSH_ROTATE_NAME, and prints the new value.
                CMD is kept (sealed) as the secret's rotator for next time.
  (neither)     run the rotator kept from an earlier --with

The new value is written only if the rotator exits 0 and prints something;
otherwise nothing changes. --due rotates every overdue secret that has a
rotator, reports each, and exits 1 if any failed.`

// RotateExample are examples of `hush rotate`.
const RotateExample = `  hush rotate app/prod/DB_PASSWORD --generate
  hush rotate app/prod/API_KEY --with './rotate-api-key.sh'
  hush rotate --due`

// Policy is the long help of `hush policy`.
const Policy = `Set a folder's rotation interval: every secret in the folder or below it
that has no --rotate-every of its own is due that long after its last change
(the nearest folder's policy wins). --rotate-every 0 removes it. Without
arguments, list the policies.`

// PolicyExample are examples of `hush policy`.
const PolicyExample = `  hush policy app/prod --rotate-every 90d
  hush policy`

// Passwd is the long help of `hush passwd`.
const Passwd = `Change the passphrase: the vault key is re-wrapped under the new one with a
new salt; no secret is re-encrypted. The current passphrase is asked (or taken
from HUSH_PASSPHRASE / --passphrase-file), the new one asked twice (or taken
from HUSH_NEW_PASSPHRASE / --new-passphrase-file). --kdf-memory and
--kdf-passes change the key derivation cost at the same time.

What plain passwd does not protect against: the vault key stays the same, so
an old copy of the vault file (a backup, a synced folder) together with the
old passphrase still opens every secret, including those written after the
change; someone who can write the file can put the old header back; and a
key remembered by ` + "`hush unlock`" + ` keeps working.

--rotate-key also replaces the vault key with a new one (a new key epoch):
every secret and all its history, the audit log and the rest are re-sealed,
and remembered keys are forgotten and refused. Use it after a suspected
leak of the passphrase or of a vault file. It is safe to interrupt: the vault
is then either as it was (old passphrase) or rotated (new passphrase).`

// Run is the long help of `hush run`.
const Run = `Run COMMAND with secrets as environment variables, named by the last segment
of each secret's name.

  --from FOLDER       the secrets directly in FOLDER (repeatable; later wins);
                      FOLDER? (quoted: 'app/dev-local?') may be empty or absent
  --env-file FILE     KEY=value lines; values of the form hush://NAME or
                      hush://NAME?version=N are replaced by that secret
  hush:// references  in the inherited environment are replaced too
  .hush.toml          in the working folder or a parent: vault = "...",
                      from = ["app/dev"] (used when no --from is given)

Secrets override inherited variables unless --preserve-env. HUSH_PASSPHRASE
and HUSH_NEW_PASSPHRASE never reach the command; HUSH_RUN=1 marks it.

By default hush replaces itself with the command (execve): its exit code and
signals are the command's own. --mask keeps hush in between to replace
secret values in the command's output with <concealed by hush>; hush then
forwards signals and exits with the command's code (128+N for signal N).
Masking catches a value written in pieces, unless the pieces come more than
50 ms apart.

--dynamic VAR=NAME (repeatable) makes a PostgreSQL login of the command's own
from the dynamic source NAME (see ` + "`hush dynamic`" + `), valid for the source's
TTL, and puts its URL in VAR; hush then stays, as with --mask, and drops the
login when the command ends. The source's admin URL never reaches the
command, and --from skips dynamic sources.

--watch keeps hush as a supervisor that follows the vault (a change made on
this machine, by any process) and, when it is shared with a team, the team
server: when an injected secret gets a new version, hush sends the command's
process group --watch-signal (default TERM), waits --watch-grace (default
10s), then SIGKILL, and starts it again with the new values. Changes that
arrive together restart it once. --watch=signal:HUP only sends that signal.
A revoked secret stops the command; a locked vault or an unreachable server
is said once and the command keeps running. See docs/run.md.

The environment of a process is readable by other processes of the same
user (/proc/PID/environ): see docs/run.md.`

// RunExample are examples of `hush run`.
const RunExample = `  hush run --from app/dev -- npm start
  hush exec --from app/dev --from 'app/dev-local?' -- ./server
  DATABASE_URL=hush://app/prod/DATABASE_URL hush run -- psql
  hush run --env-file .env.tpl -- make test
  hush run --mask --from app/prod -- ./deploy.sh
  hush run --from app/prod --dynamic DATABASE_URL=db/prod -- ./report.sh
  hush run --watch --from app/dev -- npm run dev
  hush run --watch=signal:HUP --from app/prod -- ./server`

// Set is the long help of `hush set`.
const Set = `Create a secret, or add a new version of an existing one.

The value comes from the argument, from stdin with "-" (kept byte for byte,
newlines included), from --generate, or from a hidden prompt on the terminal.
A value given as an argument is visible in shell history and to ps: prefer
"-" or the prompt. Flags not given keep what the secret had. To change only
metadata, without giving the value again, use ` + "`hush edit`" + `.`

// SetExample are examples of `hush set`.
const SetExample = `  hush set app/prod/DATABASE_URL
  hush set app/prod/TLS_CERT --type certificate - < cert.pem
  hush set app/prod/STRIPE_KEY --type api-key --rotate-every 30d
  hush set app/dev/SESSION_SECRET --generate`

// Edit is the long help of `hush edit`.
const Edit = `Change a secret's note, tags, type, rotation interval, expiry date or rotator
without giving its value again. The change is a new version with the same
value; flags not given keep what the secret had. --tag replaces the tags
(--tag "" clears them), --rotate-every 0 and --expires never remove those.
Changing --type checks that the value is of the new type.`

// EditExample are examples of `hush edit`.
const EditExample = `  hush edit app/prod/STRIPE_KEY --rotate-every 30d --rotator './rotate-stripe.sh'
  hush edit app/prod/DATABASE_URL --note "primary, eu-west-1" --tag prod,db`

// Get is the long help of `hush get`.
const Get = `Print a secret's value, byte for byte (a newline is added only on a terminal).
With --json: the value and its metadata; a value that is not UTF-8 text is
given as value_base64 instead of value.`

// Server is the long help of `hush server`.
const Server = `Run hush's team server. It keeps sealed records, public keys, wrapped keys,
roles and an audit log: never a passphrase, a team key, a name or a value.

  --db PATH            a SQLite file (default $HUSH_HOME/server/server.db):
                       zero setup, one server process
  --db postgres://...  PostgreSQL: any number of server processes on one
                       database, behind a load balancer

Plain HTTP is allowed only on a loopback address; elsewhere give
--tls-cert and --tls-key (or --insecure, behind a TLS-terminating proxy).
SIGTERM or Ctrl-C stops it after the requests in flight. /healthz and
/metrics (Prometheus) need no signature. See docs/sync.md.`

// ServerExample are examples of `hush server`.
const ServerExample = `  hush server --listen 127.0.0.1:8443
  hush server --listen :8443 --tls-cert cert.pem --tls-key key.pem --db postgres://hush@db/hush`

// SSHAgent is the long help of `hush ssh-agent`.
const SSHAgent = `Serve the SSH private keys kept in a folder of the vault (default "ssh")
through the SSH agent protocol, until interrupted. It prints the line that
points ssh at it:

  eval "$(hush ssh-agent &)"       # or: hush ssh-agent --socket PATH &

The agent reads the keys with the key ` + "`hush unlock`" + ` remembered, at each
request: after ` + "`hush lock`" + ` it lists and signs nothing until the next
` + "`hush unlock`" + `. It never exports a private key, refuses ssh-add's
requests to add or remove keys (unless --allow-add: kept in memory only),
and records every signature in the audit log. With --confirm each
signature is first confirmed through $SSH_ASKPASS, as ssh-add -c does.`

// Unlock is the long help of `hush unlock`.
const Unlock = `Ask the passphrase once and remember the vault key, so that commands stop
asking. On Linux the key goes into the kernel keyring (fast, works over SSH
and on servers, forgotten at reboot or when the time is up); --persist also
stores it in the OS keychain (Secret Service), which survives a reboot. On
macOS and Windows the OS keychain is used.

--remember sets how long (default 8h; 0 means until ` + "`hush lock`" + `).
Running unlock again while unlocked changes the time without asking.`

// UnlockExample are examples of `hush unlock`.
const UnlockExample = `  hush unlock
  hush unlock --remember 30m
  hush unlock --remember 0 --persist`

// Root is the long help of `hush`.
const Root = `hush keeps API keys, passwords, tokens and certificates in an encrypted vault
on your machine. Start with ` + "`hush init`" + `, then ` + "`hush set NAME`" + ` and ` + "`hush get NAME`" + `.

Names are paths such as app/prod/DATABASE_URL: segments of A-Z a-z 0-9 _ . -
joined by "/". A folder is a prefix of names.

Environment:
  HUSH_HOME            where vaults live (default $XDG_DATA_HOME/hush or ~/.local/share/hush;
                       macOS ~/Library/Application Support/hush; Windows %LOCALAPPDATA%\hush)
  HUSH_VAULT           the vault to use (default "default"; --vault overrides)
  HUSH_PASSPHRASE      the passphrase, for scripts and CI (--passphrase-file or
                       ` + "`hush unlock`" + ` are safer)
  HUSH_NEW_PASSPHRASE  the new passphrase for init and passwd without a terminal
  HUSH_TOKEN           a machine token (` + "`hush team invite --machine`" + `): get, ls, export
                       and run then read the team with it, with no vault and no passphrase`

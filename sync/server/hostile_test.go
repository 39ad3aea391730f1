package server_test

// Hostile requests: each is refused with its exact status and leaves the
// server as it was (the stored state, and the team as a legit device
// pulls it). Every test ends with a control: the legit request the hostile
// ones imitate does change the state, so "unchanged" is not vacuous.
//
// The tests are grouped by threat class: hostile_auth_test.go,
// hostile_input_test.go, hostile_access_test.go, hostile_join_test.go,
// hostile_flood_test.go and hostile_race_test.go.

// endpoint is a route; authedEndpoints are those a device signs as
// itself (not the self-signed create and join).
type endpoint struct {
	method, path string
}

var authedEndpoints = []endpoint{
	{"GET", "/v1/changes?since=0"},
	{"POST", "/v1/push"},
	{"GET", "/v1/members"},
	{"GET", "/v1/key"},
	{"POST", "/v1/invites"},
	{"GET", "/v1/joins"},
	{"POST", "/v1/joins/approve"},
	{"GET", "/v1/log?since=0"},
	{"POST", "/v1/log"},
	{"GET", "/v1/audit?since=0"},
}

package curve

import "sync"

// hush: upstream unpacked and built its tables of multiples of the
// basepoint while the package initialised (about 0.17 ms on a 2-core
// EPYC: ED25519_BASEPOINT_TABLE, RISTRETTO_BASEPOINT_TABLE, the affine
// odd multiples of B and [2^128]B, and the AVX2 backend's own forms of
// them), which every hush command paid, verifying a signature or not.
// They are built here on first use instead: every function that reads
// one of them calls tables() first. The tables are the same; only when
// they are made moves.

var tablesOnce sync.Once

// tables builds the package's basepoint tables, once.
func tables() {
	tablesOnce.Do(buildTables)
}

func buildTables() {
	edwardsBasepointTableInnerDocHidden.inner = unpackEdwardsBasepointTable()
	constAFFINE_ODD_MULTIPLES_OF_BASEPOINT = unpackAffineNielsPointNafLookupTable(packedAffineOddMultiplesOfBasepoint)
	constAFFINE_ODD_MULTIPLES_OF_B_SHL_128 = unpackAffineNielsPointNafLookupTable(packedAffineOddMultiplesOfBShl128)
	buildVectorTables()
	RISTRETTO_BASEPOINT_TABLE.inner = *ED25519_BASEPOINT_TABLE
}

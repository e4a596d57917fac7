// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package silk

import "github.com/pion/opus/internal/rangecoding"

// The tables read for every shell block and LSF coefficient, converted for
// rangecoding.Decoder.DecodeSymbolWithICDF8, which decodes the same symbols
// as DecodeSymbolWithICDF from the tables above, faster. Built from them, so
// they cannot differ.
//
// nolint: gochecknoglobals
var (
	icdf8PulseCount                        = rangecoding.NewICDF8s(icdfPulseCount)
	icdf8PulseCountSplit16SamplePartitions = rangecoding.NewICDF8s(icdfPulseCountSplit16SamplePartitions)
	icdf8PulseCountSplit8SamplePartitions  = rangecoding.NewICDF8s(icdfPulseCountSplit8SamplePartitions)
	icdf8PulseCountSplit4SamplePartitions  = rangecoding.NewICDF8s(icdfPulseCountSplit4SamplePartitions)
	icdf8PulseCountSplit2SamplePartitions  = rangecoding.NewICDF8s(icdfPulseCountSplit2SamplePartitions)
	icdf8ExcitationLSB                     = rangecoding.NewICDF8(icdfExcitationLSB)
	icdf8NormalizedLSFStageTwoIndex        = rangecoding.NewICDF8s(icdfNormalizedLSFStageTwoIndex)
	icdf8NormalizedLSFStageTwoExtension    = rangecoding.NewICDF8(icdfNormalizedLSFStageTwoIndexExtension)

	// icdf8ExcitationSign[signal type][quantization offset type][pulse
	// count, 6 for 6 or more] is excitationSignICDF's table.
	icdf8ExcitationSign = func() (tables [3][2][7]rangecoding.ICDF8) {
		for s := range tables {
			for q := range tables[s] {
				for p := range tables[s][q] {
					tables[s][q][p] = rangecoding.NewICDF8(excitationSignICDF(
						frameSignalTypeInactive+frameSignalType(s),                    //nolint:gosec // < 3
						frameQuantizationOffsetTypeLow+frameQuantizationOffsetType(q), //nolint:gosec // < 2
						uint8(p), //nolint:gosec // < 7
					))
				}
			}
		}

		return tables
	}()
)

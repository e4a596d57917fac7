// Package dsp holds the signal-processing building blocks of the voice
// activity detector (package vad), none of which knows speech, roles or
// thresholds:
//
//   - BandFilter measures the speech-band power of both channels' frames:
//     a boxcar decimation, then 4th-order Butterworth sections in direct
//     form I with fused multiply-adds, run on the two channels side by
//     side, in AVX/FMA3 assembly on amd64 (filter_amd64.s; the purego build
//     tag, older processors and every other architecture take the Go loop
//     it matches bit for bit, math.FMA being exact everywhere), straight
//     from 16-bit PCM bytes or from float samples;
//   - PowerToDB and DBToPower convert between power and decibels, the
//     former by a series fast enough for every frame;
//   - FloorTracker follows a noise floor by minimum statistics;
//   - Histogram weighs levels to give their quantiles in fixed memory.
//
// vad decides what the measurements mean. Everything here is exact and
// deterministic: vad's golden decisions depend on these numbers bit for
// bit.
package dsp

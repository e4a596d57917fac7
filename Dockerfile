# syntax=docker/dockerfile:1
# talkratio: one static binary with the dashboard embedded.
#
#   docker build -t talkratio .
#   docker run -p 8080:8080 -p 8443:8443/udp -v talkratio-data:/data \
#     -e TALKRATIO_TOKEN_KEY="$(cat talkratio.key)" talkratio \
#     serve -ice-port 8443 -data /data -public-ip <host IP>
#
# Reachable from other machines, the service requires tokens: create the
# key with `talkratio token -new-key` (see README, Security).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces github.com/pion/opus with this in-repo fork (issue 14), so
# the module graph cannot be resolved without it.
COPY third_party ./third_party
RUN go mod download
COPY . .
# Pure Go (pion's WebRTC and Opus included): a static binary that runs on
# distroless/static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/talkratio ./cmd/talkratio \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/talkratio /talkratio
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
WORKDIR /data
VOLUME /data
# HTTP (dashboard, WHIP, API, metrics) and the single UDP port all WebRTC
# media uses.
EXPOSE 8080/tcp 8443/udp
# No shell or curl in the image: the binary probes itself.
# serve listens on TALKRATIO_ADDR, and the probe reads the same variable:
# change the port with -e TALKRATIO_ADDR=:9000 and both follow.
ENV TALKRATIO_ADDR=:8080
HEALTHCHECK --interval=15s --timeout=4s --start-period=5s --retries=3 \
  CMD ["/talkratio", "healthcheck"]
ENTRYPOINT ["/talkratio"]
CMD ["serve", "-ice-port", "8443", "-data", "/data"]

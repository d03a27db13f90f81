# syntax=docker/dockerfile:1
#
# The unmodified orgscan CLI in a minimal image: one static binary, the CA
# certificates it needs for TLS to AWS, and an unprivileged user. No shell, no
# package manager, nothing else to patch. Build from the repository root:
#
#   docker build -t orgscan:dev .
#   docker build --platform linux/arm64 -t orgscan:dev-arm64 .
#
# Keep .git in the build context: Go stamps the commit into the binary and
# `orgscan version` and every report name it. Release images are built by
# GoReleaser (.goreleaser.yaml, dockers_v2) from the release binaries instead
# of compiling again: it passes ORGSCAN_BINARY=release and puts each binary at
# <os>/<arch>/orgscan in the build context.
#
# For reproducible builds pin the base image by digest (golang:1.26@sha256:...).

ARG GO_VERSION=1.26
# source compiles the binary here; release copies GoReleaser's.
ARG ORGSCAN_BINARY=source

# Cross-compile on the build machine's own platform: Go needs no emulation.
# This stage also lays out what scratch lacks and has no shell to create: a
# world-writable sticky /tmp for temporary files and the local fallback
# report, and a passwd entry so the process runs as a named unprivileged user.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS base
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/tmp \
 && chmod 1777 /out/rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ \
 && echo 'nonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin' > /out/rootfs/etc/passwd \
 && echo 'nonroot:x:65532:' > /out/rootfs/etc/group

FROM base AS binary-source
ARG TARGETOS
ARG TARGETARCH
# A release version for the linker flag; empty, the toolchain's own stamp
# (tag or pseudo-version and commit) names the build.
ARG ORGSCAN_VERSION=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=auto \
      -ldflags="-s -w -X github.com/orgscan/orgscan/internal/cli.version=${ORGSCAN_VERSION}" \
      -o /out/orgscan ./cmd/orgscan

FROM scratch AS binary-release
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/orgscan /out/orgscan

# BuildKit builds only the stages the target needs: a release image never
# compiles, a source image never looks for GoReleaser's binaries.
FROM binary-${ORGSCAN_BINARY} AS binary

FROM scratch
COPY --from=base /out/rootfs/ /
COPY --from=binary /out/orgscan /orgscan
USER 65532:65532
WORKDIR /tmp
ENV TMPDIR=/tmp
ENTRYPOINT ["/orgscan"]
CMD ["version"]

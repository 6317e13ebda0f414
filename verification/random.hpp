// verification/random.hpp — reproducible parallel random numbers for particle simulations.
//
// Counter-based Philox4x32-10 (Random123): the random numbers of a particle depend only on
// key {seed, purpose} and counter {particle id (64 bits), step, substream}, never on the MPI
// rank or on the order in which particles are processed, so any rank count draws identical
// particles. One Philox block (4 x 32 bits) gives two 64-bit uniforms, hence two normals by
// Box-Muller. Known answer (docs/VERIFICATION.md): counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c
// 9b00dbd8.
#pragma once

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <array>
#include <cstdint>

namespace fpflow {

// What a stream is for: different purposes never share numbers under the same seed.
enum class Purpose : std::uint32_t { initial = 1, noise = 2, fault = 3 };

class Philox {
 public:
  Philox(std::uint32_t seed, Purpose purpose) : key_{{seed, static_cast<std::uint32_t>(purpose)}} {}

  std::array<std::uint32_t, 4> raw(std::uint64_t particle, std::uint32_t step,
                                   std::uint32_t substream) const {
    const r123::Philox4x32::ctr_type c = {{static_cast<std::uint32_t>(particle),
                                           static_cast<std::uint32_t>(particle >> 32), step,
                                           substream}};
    const auto r = r123::Philox4x32()(c, key_);
    return {r[0], r[1], r[2], r[3]};
  }

  // Two independent standard normals.
  std::array<double, 2> normals(std::uint64_t particle, std::uint32_t step,
                                std::uint32_t substream) const {
    const auto r = raw(particle, step, substream);
    const r123::double2 z =
        r123::boxmuller((std::uint64_t(r[0]) << 32) | r[1], (std::uint64_t(r[2]) << 32) | r[3]);
    return {z.x, z.y};
  }

  // Two independent uniforms in (0, 1].
  std::array<double, 2> uniforms(std::uint64_t particle, std::uint32_t step,
                                 std::uint32_t substream) const {
    const auto r = raw(particle, step, substream);
    return {r123::u01<double>((std::uint64_t(r[0]) << 32) | r[1]),
            r123::u01<double>((std::uint64_t(r[2]) << 32) | r[3])};
  }

 private:
  r123::Philox4x32::key_type key_;
};

}  // namespace fpflow

// The Catch2 main of the distributed tests: MPI is initialised before the first test and finalised
// after the last (ctest runs this executable under `mpirun -np 2`, tests/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "moodnet/distributed/mpi_session.hpp"

int main(int argc, char** argv) {
  moodnet::distributed::MpiSession mpi(argc, argv);
  return Catch::Session().run(argc, argv);
}

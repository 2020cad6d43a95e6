#pragma once
// MpiSession: MPI for moodnet's data-parallel training, initialised once per process (RAII).
// This header needs MPI (Debian: libopenmpi-dev; CMake: find_package(MPI), link MPI::MPI_CXX); no
// other moodnet header includes it, so a program that does not use distributed training needs no MPI.
//
//   moodnet::distributed::MpiSession mpi(argc, argv);   // MPI_Init_thread, MPI_Finalize at scope end
//   mpi.rank(), mpi.size()                                // 0 and 1 when not started by mpirun
//
// Errors: MPI calls return their codes (MPI_ERRORS_RETURN on MPI_COMM_WORLD) and mpi_check turns a
// failure into moodnet::Error naming the call. A rank that fails calls abort_all, which ends every
// rank of the job (MPI_Abort) so that none waits forever in a collective for a rank that is gone.
#include <mpi.h>

#include <cstdio>
#include <string>

#include "moodnet/core/error.hpp"

namespace moodnet::distributed {

inline void mpi_check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("MPI: ", what, " failed: ", std::string(text, static_cast<std::size_t>(len)));
}

class MpiSession {
 public:
  // Threads: OpenMP runs inside each rank; only the main thread calls MPI (MPI_THREAD_FUNNELED).
  MpiSession(int& argc, char**& argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      mpi_check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

  // Ends the whole job: prints "rank R: message" on stderr, then MPI_Abort (every rank exits with
  // `code`; mpirun reports which one aborted).
  [[noreturn]] void abort_all(const std::string& message, int code = 1) const {
    std::fprintf(stderr, "error (rank %d of %d): %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; in case an implementation does
  }

 private:
  int rank_ = 0, size_ = 1;
  bool owns_ = false;
};

}  // namespace moodnet::distributed

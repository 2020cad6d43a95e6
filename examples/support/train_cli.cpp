#include "train_cli.hpp"

#include <cstdio>
#include <cstdlib>

#include <moodnet/cli.hpp>  // the trainers' command lines and loop (train/train_cli.hpp)

#if defined(MOODNET_WITH_MPI)
#include <moodnet/distributed/mpi_training_group.hpp>
#endif

namespace moodnet::examples {
namespace {

// Started by mpirun/mpiexec with more than one rank? (Open MPI sets OMPI_COMM_WORLD_SIZE, MPICH and
// Slurm's PMI set PMI_SIZE.) A program run on its own never initialises MPI.
bool launched_as_group() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name); v && std::atoi(v) > 1) return true;
  return false;
}

// Runs the trainer, as one rank of a data-parallel group when mpirun started several. A rank whose
// run fails ends the whole job (the others may be waiting for it in a collective: no hang).
template <class Run>
int run_trainer(int& argc, char**& argv, Run run) {
  if (!launched_as_group()) return run(nullptr);
#if defined(MOODNET_WITH_MPI)
  distributed::MpiSession mpi(argc, argv);
  distributed::MpiTrainingGroup group(mpi);
  const int rc = run(&group);
  if (rc != 0 && rc != 130) mpi.abort_all("the run failed (the error is above); every rank stops", rc);
  return rc;
#else
  std::fprintf(stderr, "error: started by mpirun with several ranks, but this program was built without MPI "
                       "(install libopenmpi-dev openmpi-bin and rebuild)\n");
  return 2;
#endif
}

}  // namespace

int train_main(int argc, char** argv, const std::string& model) {
  return run_trainer(argc, argv, [&](train::TrainingGroup* g) { return train::train_main(argc, argv, model, g); });
}

int train_any_main(int argc, char** argv) {
  return run_trainer(argc, argv, [&](train::TrainingGroup* g) { return train::train_any_main(argc, argv, g); });
}

}  // namespace moodnet::examples

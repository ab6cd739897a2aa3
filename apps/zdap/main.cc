// zdap: the command line for developers and operators (SPEC "CLI (zdap)").
#include "zdap/cli.h"

int main(int argc, char** argv) {
  return zdap::cli::Main(argc, argv);
}

// tests/test_input_output.cpp — input checks and output safety (issue 13, defects 8 and 9):
// strict option values, the command line and options files before PETSc, the time span, the
// memory/index estimate, the DMDA partition against PETSc's own choice, the output-directory
// lock and clean-up, writes that fail (file-size limit) leaving no file under its real name,
// status records, and a run stopped by a (simulated) SIGTERM. Runs at 1, 2, 3 and 4 ranks (the
// partition cases need rank counts with a 2-D and 3-D choice).
#define BOOST_TEST_MODULE input_output
#include "common.hpp"

#include "core/input_checks.hpp"
#include "core/resources.hpp"
#include "core/signals.hpp"
#include "io/output.hpp"
#include "io/vtk_writer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace fpflow;
using namespace fpflow::test;
namespace fs = std::filesystem;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

// The message of the Error `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A directory of this test and rank count, empty (rank 0 prepares it; every rank waits).
std::string fresh_dir(const std::string& name) {
  const std::string d = "test-out/io-" + name + "-np" + std::to_string(size());
  if (rank() == 0) {
    fs::remove_all(d);
    fs::create_directories(d);
  }
  MPI_Barrier(world());
  return d;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// Runs check_command_line on words (argv[0] is added).
std::string command_line_error(std::vector<std::string> words, CommandLine* out = nullptr) {
  words.insert(words.begin(), "fpflow");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  CommandLine line;
  const std::string e = error_of([&] {
    check_command_line(world(), int(argv.size()), argv.data(), line);
  });
  if (out) *out = line;
  return e;
}

// A file-size limit of `bytes` for this process while in scope (SIGXFSZ ignored, as fpflow
// does, so write() fails with EFBIG instead of killing the process).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() { setrlimit(RLIMIT_FSIZE, &old_); }

 private:
  rlimit old_{};
};

}  // namespace

BOOST_AUTO_TEST_CASE(strict_values) {
  BOOST_TEST(parse_integer("-n", "42", 1, 100) == 42);
  BOOST_TEST(parse_integer("-n", " -7 ", -10, 10) == -7);
  // PETSc wraps these to 64 and 1215752191 cells.
  BOOST_TEST(contains(error_of([] { parse_integer("-da_grid_x", "4294967360", 1, PETSC_MAX_INT); }),
                      "-da_grid_x 4294967360 is too large"));
  BOOST_TEST(contains(error_of([] { parse_integer("-da_grid_x", "99999999999", 1, PETSC_MAX_INT); }),
                      "too large"));
  BOOST_TEST(contains(error_of([] { parse_integer("-n", "99999999999999999999999", 1, 5); }),
                      "too large"));
  BOOST_TEST(contains(error_of([] { parse_integer("-n", "1.5", 1, 5); }), "whole number"));
  BOOST_TEST(contains(error_of([] { parse_integer("-n", "1e3", 1, 5000); }), "digits"));
  BOOST_TEST(contains(error_of([] { parse_integer("-n", "abc", 1, 5); }), "got 'abc'"));
  BOOST_TEST(contains(error_of([] { parse_integer("-n", "", 1, 5); }), "-n needs"));
  BOOST_TEST(contains(error_of([] { parse_integer("-output_every", "-3", 0, 9); }),
                      "-output_every must be at least 0, got -3"));
  BOOST_TEST(parse_real("-x", "1e-3") == 1e-3);
  BOOST_TEST(parse_real("-x", "-2.5") == -2.5);
  for (const char* bad : {"inf", "-inf", "nan", "Infinity"})
    BOOST_TEST(contains(error_of([&] { parse_real("-ts_dt", bad); }), "not a finite number"));
  BOOST_TEST(contains(error_of([] { parse_real("-ts_dt", "1e400"); }), "out of range"));
  BOOST_TEST(contains(error_of([] { parse_real("-ts_dt", "1,2"); }), "takes a number"));
  BOOST_TEST(contains(error_of([] { parse_real("-ts_dt", "0.1x"); }), "takes a number"));
  BOOST_TEST(parse_flag("-vtk", "") == true);
  BOOST_TEST(parse_flag("-vtk", "No") == false);
  BOOST_TEST(parse_flag("-vtk", "on") == true);
  BOOST_TEST(contains(error_of([] { parse_flag("-vtk", "maybe"); }), "-vtk takes true or false"));
}

BOOST_AUTO_TEST_CASE(option_blocks_parse_strictly) {
  auto read = [](const std::string& args) {
    return error_of([&] {
      ScopedOptions o(args);
      OptionsBlock opt(world(), nullptr, "test");
      opt.integer("-n", "n", 1, 0, 10);
      opt.real("-r", "r", 1.0);
      opt.flag("-f", "f", true);
      opt.reals("-v", "v", {0.0}, 3);
    });
  };
  BOOST_TEST(read("-n 3 -r 0.5 -f 0 -v 1,2,3").empty());
  BOOST_TEST(contains(read("-n 4294967297"), "too large"));
  BOOST_TEST(contains(read("-n 11"), "at most"));
  BOOST_TEST(contains(read("-r nan"), "-r nan is not a finite number"));
  BOOST_TEST(contains(read("-f maybe"), "-f takes true or false"));
  BOOST_TEST(contains(read("-v 1,inf"), "not a finite number"));
  BOOST_TEST(contains(read("-v 1,2,3,4"), "at most 3 values"));
  // PETSc's own numeric options, by name with any prefix, before PETSc parses them.
  auto petsc = [](const std::string& args) {
    return error_of([&] {
      ScopedOptions o(args);
      check_numeric_options();
    });
  };
  BOOST_TEST(petsc("-ts_max_steps 10 -ts_dt 0.1 -ksp_rtol 1e-8 -output inf").empty());
  BOOST_TEST(contains(petsc("-ts_max_steps 99999999999"), "-ts_max_steps 99999999999 is too large"));
  BOOST_TEST(contains(petsc("-ts_max_steps -1"), "must be at least 1"));
  BOOST_TEST(contains(petsc("-mg_levels_ksp_max_it 2.5"), "-mg_levels_ksp_max_it"));
  BOOST_TEST(contains(petsc("-ts_max_time -1"), "-ts_max_time must be positive"));
  BOOST_TEST(contains(petsc("-ts_dt 1e400"), "out of range"));
  BOOST_TEST(contains(petsc("-steady_ksp_rtol nan"), "not a finite number"));
  BOOST_TEST(contains(petsc("-some_option inf"), "-some_option inf is not a finite number"));
}

BOOST_AUTO_TEST_CASE(time_span) {
  BOOST_TEST(error_of([] { check_time_span(1.0, 1e-3, 2e9, false); }).empty());
  BOOST_TEST(contains(error_of([] { check_time_span(-1.0, 1e-3, 1e9, false); }),
                      "final time must be positive and finite"));
  BOOST_TEST(contains(error_of([] { check_time_span(1.0, 0.0, 1e9, false); }),
                      "time step must be positive"));
  BOOST_TEST(contains(error_of([] { check_time_span(1.0, NAN, 1e9, false); }),
                      "time step must be positive"));
  // 1e300 steps would never end: refused with the count, unless -ts_max_steps bounds the run
  // or an adaptive controller owns the step.
  BOOST_TEST(contains(error_of([] { check_time_span(1.0, 1e-300, 2147483647, false); }),
                      "would take 1e+300 steps"));
  BOOST_TEST(error_of([] { check_time_span(1.0, 1e-300, 100, false); }).empty());
  BOOST_TEST(error_of([] { check_time_span(1.0, 1e-300, 2147483647, true); }).empty());
}

BOOST_AUTO_TEST_CASE(memory_estimate) {
  RunFootprint f;
  f.dim = 2;
  // Within the measured footprints (docs/PERFORMANCE.md), never above them: a refused run
  // certainly does not fit. Explicit OU 2-D/3-D measured 72/89 B per cell, implicit 2-D ~500.
  BOOST_TEST(bytes_per_cell(f) <= 72.0);
  BOOST_TEST(bytes_per_cell(f) >= 48.0);
  f.dim = 3;
  BOOST_TEST(bytes_per_cell(f) <= 89.0);
  f.dim = 2;
  f.implicit = true;
  BOOST_TEST(bytes_per_cell(f) >= 200.0);
  BOOST_TEST(bytes_per_cell(f) <= 500.0);
  RunFootprint framed = f;
  framed.frames = framed.flow_fields = true;
  BOOST_TEST(bytes_per_cell(framed) > bytes_per_cell(f));

  RunFootprint e;
  e.dim = 3;
  // 1200^3 cells cannot fit in 24 GB; 64^3 can.
  const std::string big = grid_fit_problem({1200, 1200, 1200}, 3, e, 1, 1, 24e9);
  BOOST_TEST(contains(big, "the grid (1200 x 1200 x 1200 = 1.73e+09 cells) needs ~"));
  BOOST_TEST(contains(big, "this machine has 24.0 GB available"));
  BOOST_TEST(grid_fit_problem({64, 64, 64}, 3, e, 1, 1, 24e9).empty());
  // Ranks on other nodes carry their share: 2 nodes of 1 rank each need half per node.
  const double bpc = bytes_per_cell(e), n = 1000.0 * 1000 * 1000;
  BOOST_TEST(!grid_fit_problem({1000, 1000, 1000}, 3, e, 1, 1, 0.6 * n * bpc).empty());
  BOOST_TEST(grid_fit_problem({1000, 1000, 1000}, 3, e, 2, 1, 0.6 * n * bpc).empty());
  // 32-bit indices: cells, and matrix entries per rank.
  BOOST_TEST(contains(grid_fit_problem({50000, 50000, 1}, 2, e, 1, 1, -1), "32-bit"));
  RunFootprint box;
  box.dim = 3;
  box.implicit = box.box_stencil = true;
  BOOST_TEST(contains(grid_fit_problem({600, 600, 600}, 3, box, 1, 1, -1), "matrix"));
  BOOST_TEST(grid_fit_problem({600, 600, 600}, 3, box, 16, 1, -1).empty());
  BOOST_TEST(available_memory_bytes() > 0);
}

// The layout fpflow computes and hands to PETSc equals the one PETSc chooses by itself, for
// every shape tried at this rank count (so the explicit layout changes nothing), and the checks
// refuse exactly the grids where a rank would have fewer cells than the stencil width.
BOOST_AUTO_TEST_CASE(partition_matches_petsc) {
  const int np = size();
  const std::vector<std::array<PetscInt, 3>> shapes = {
      {64, 64, 64}, {5, 7, 3}, {100, 3, 4}, {3, 100, 9}, {16, 16, 2}, {9, 4, 50}, {12, 12, 12}};
  int compared = 0;
  for (int dim = 1; dim <= 3; ++dim)
    for (const auto& s : shapes)
      for (PetscInt width : {1, 2}) {
        std::array<PetscInt, 3> cells = s;
        for (int a = dim; a < 3; ++a) cells[a] = 1;
        Partition mine;
        const std::string why = error_of([&] {
          mine = partition_grid(dim, cells, np, {PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE}, width,
                                {false, false, false});
        });
        if (!why.empty()) {
          BOOST_TEST(contains(why, "cannot partition the grid over " + std::to_string(np)));
          continue;
        }
        DMH dm;
        FP_CHECK(DMDACreate(world(), dm.out()));
        FP_CHECK(DMSetDimension(dm, dim));
        FP_CHECK(DMDASetSizes(dm, cells[0], cells[1], cells[2]));
        FP_CHECK(DMDASetDof(dm, 1));
        FP_CHECK(DMDASetStencilWidth(dm, width));
        FP_CHECK(DMDASetBoundaryType(dm, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED,
                                     DM_BOUNDARY_GHOSTED));
        FP_CHECK(DMSetUp(dm));
        PetscInt m[3] = {1, 1, 1};
        FP_CHECK(DMDAGetInfo(dm, nullptr, nullptr, nullptr, nullptr, &m[0], &m[1], &m[2], nullptr,
                             nullptr, nullptr, nullptr, nullptr, nullptr));
        const PetscInt* l[3] = {nullptr, nullptr, nullptr};
        FP_CHECK(DMDAGetOwnershipRanges(dm, &l[0], &l[1], &l[2]));
        for (int a = 0; a < dim; ++a) {
          BOOST_TEST(mine.ranks[a] == m[a], "dim " << dim << " cells " << cells[0] << "x"
                                                     << cells[1] << "x" << cells[2] << " axis " << a);
          for (PetscInt i = 0; i < m[a] && mine.ranks[a] == m[a]; ++i)
            BOOST_TEST(mine.cells[a][std::size_t(i)] == l[a][i]);
        }
        ++compared;
      }
  BOOST_TEST(compared > 20);
  if (np >= 3) {
    // 2 np - 1 cells leave one cell on the last rank: too thin for MUSCL's two ghost layers.
    const std::string e = error_of([&] {
      partition_grid(1, {2 * np - 1, 1, 1}, np, {PETSC_DECIDE, 1, 1}, 2, {false, false, false});
    });
    BOOST_TEST(contains(e, "cannot partition the grid over " + std::to_string(np) + " ranks"));
    BOOST_TEST(contains(e, "fewer than the stencil width 2"));
  }
  BOOST_TEST(contains(error_of([&] {
               partition_grid(1, {1, 1, 1}, 1, {PETSC_DECIDE, 1, 1}, 2, {true, false, false});
             }),
             "periodic axis x needs at least 2 cells"));
  BOOST_TEST(contains(error_of([&] {
               partition_grid(2, {8, 8, 1}, np, {np + 1, PETSC_DECIDE, 1}, 1, {false, false, false});
             }),
             "-da_processors_x"));
}

// A grid too small for the ranks is one collective error from the Grid, at every rank count.
BOOST_AUTO_TEST_CASE(grid_refuses_thin_partition_collectively) {
  ScopedOptions o("-da_grid_x " + std::to_string(size()));
  GridSpec spec;
  spec.dim = 1;
  spec.stencil_width = 2;
  const std::string e = error_of([&] { Grid g(world(), spec); });
  if (size() > 1) BOOST_TEST(contains(e, "cannot partition the grid"));
  else BOOST_TEST(e.empty());
}

BOOST_AUTO_TEST_CASE(command_line) {
  if (rank() == 0) {
    fs::create_directories("test-out/io-cmdline");
    write_text("test-out/io-cmdline/good.opts", "-dim 1 # a comment\n-output from-file\n");
    write_text("test-out/io-cmdline/binary.opts", std::string("-dim\0 1\x01", 8));
    write_text("test-out/io-cmdline/nested.opts", "-options_file test-out/io-cmdline/none.opts\n");
    write_text("test-out/io-cmdline/loop.opts", "-options_file test-out/io-cmdline/loop.opts\n");
  }
  MPI_Barrier(world());
  CommandLine line;
  BOOST_TEST(command_line_error({"-dim", "2", "-box_lo", "-1,-2"}, &line).empty());
  BOOST_TEST(line.subcommand.empty());
  BOOST_TEST(line.output == "fpflow-out");
  BOOST_TEST(command_line_error({"verify", "-case", "ou-1d"}, &line).empty());
  BOOST_TEST(line.subcommand == "verify");
  BOOST_TEST(line.output == "verify-out");
  BOOST_TEST(contains(command_line_error({"verfy"}), "unknown subcommand 'verfy'"));
  BOOST_TEST(contains(command_line_error({"-box_lo", "-1", "-2"}), "unexpected argument '-2'"));
  BOOST_TEST(contains(command_line_error({"-dim", "2", "3"}), "unexpected argument '3'"));
  BOOST_TEST(contains(command_line_error({"-output", ""}), "-output has an empty value"));
  // -ts_max_time -inf: a value (a number), not an option named "inf".
  BOOST_TEST(command_line_error({"-ts_max_time", "-inf"}).empty());
  BOOST_TEST(contains(command_line_error({"-options_file"}), "needs a file name"));
  BOOST_TEST(contains(command_line_error({"-options_file", "test-out/io-cmdline/nope.opts"}),
                      "options file test-out/io-cmdline/nope.opts does not exist"));
  BOOST_TEST(contains(command_line_error({"-options_file", "test-out/io-cmdline"}),
                      "is a directory"));
  BOOST_TEST(contains(command_line_error({"-options_file", "test-out/io-cmdline/binary.opts"}),
                      "is not a text file"));
  BOOST_TEST(contains(command_line_error({"-options_file", "test-out/io-cmdline/nested.opts"}),
                      "none.opts does not exist"));
  BOOST_TEST(contains(command_line_error({"-options_file", "test-out/io-cmdline/loop.opts"}),
                      "includes itself"));
  // -output as PETSc will see it: files expanded in place, the last one wins; and the command
  // line's own -output even when a file before it is missing (where the failure is recorded).
  BOOST_TEST(command_line_error({"-options_file", "test-out/io-cmdline/good.opts"}, &line).empty());
  if (rank() == 0) BOOST_TEST(line.output == "from-file");
  BOOST_TEST(command_line_error({"-options_file", "test-out/io-cmdline/good.opts", "-output", "x"},
                                &line).empty());
  BOOST_TEST(line.output == "x");
  BOOST_TEST(!command_line_error({"-options_file", "missing.opts", "-output", "y"}, &line).empty());
  BOOST_TEST(line.output == "y");
}

BOOST_AUTO_TEST_CASE(output_directory_lock_and_cleanup) {
  const std::string d = fresh_dir("lock");
  if (rank() == 0) {
    fs::create_directories(d + "/frames");
    for (const char* f : {"summary.json", "options.txt", "fpflow.pvd", "fpflow.pvd.tmp",
                          "frames/fpflow_00003.pvti", "frames/fpflow_00003_0001.vti",
                          "frames/fpflow_00004_0000.vti.tmp", "frames/notes.txt", "mine.txt"})
      write_text(d + "/" + f, "old\n");
  }
  MPI_Barrier(world());
  {
    OutputLock lock = prepare_output_dir(world(), d);
    BOOST_TEST(lock.held() == (rank() == 0));
    if (rank() == 0) {
      // The previous run's files are gone, the user's stay.
      for (const char* f : {"summary.json", "options.txt", "fpflow.pvd", "fpflow.pvd.tmp",
                            "frames/fpflow_00003.pvti", "frames/fpflow_00003_0001.vti",
                            "frames/fpflow_00004_0000.vti.tmp"})
        BOOST_TEST(!fs::exists(d + "/" + f), f);
      BOOST_TEST(fs::exists(d + "/frames/notes.txt"));
      BOOST_TEST(fs::exists(d + "/mine.txt"));
      long holder = 0;
      OutputLock second = OutputLock::try_acquire(d, &holder);
      BOOST_TEST(!second.held());
      BOOST_TEST(holder == long(getpid()));
    }
    MPI_Barrier(world());
    // A second run into the directory: one collective error naming the holder.
    bool busy = false;
    std::string msg;
    try {
      OutputLock again = prepare_output_dir(world(), d);
    } catch (const OutputBusy& e) {
      busy = true;
      msg = e.what();
    }
    BOOST_TEST(busy);
    BOOST_TEST(contains(msg, "is in use by another fpflow run (pid "));
    // Another run's directory gets no failure record from us... except that this process holds
    // it, so the record is ours to write.
    write_status_record(world(), d, "summary.json", "failed", {{"error", "x"}});
    if (rank() == 0) BOOST_TEST(fs::exists(d + "/summary.json"));
  }
  MPI_Barrier(world());
  if (rank() == 0) {
    BOOST_TEST(!fs::exists(d + "/.fpflow.lock"));  // released and removed
    long holder = 0;
    BOOST_TEST(OutputLock::try_acquire(d, &holder).held());
  }
  // verify and bench own their own files only.
  if (rank() == 0) {
    fs::create_directories(d + "/ou-1d");
    fs::create_directories(d + "/my-plots");
    for (const char* f : {"verify.json", "summary.png", "ou-1d/compare.json", "ou-1d/map.png",
                          "bench.json", "summary.json", "my-plots/map.png"})
      write_text(d + "/" + f, "old\n");
  }
  MPI_Barrier(world());
  { OutputLock l = prepare_output_dir(world(), d, OutputKind::verify); }
  if (rank() == 0) {
    for (const char* f : {"verify.json", "summary.png", "ou-1d/compare.json", "ou-1d/map.png"})
      BOOST_TEST(!fs::exists(d + "/" + f), f);
    BOOST_TEST(fs::exists(d + "/bench.json"));
    BOOST_TEST(fs::exists(d + "/summary.json"));
    BOOST_TEST(fs::exists(d + "/my-plots/map.png"));  // not a case directory: the user's
  }
  MPI_Barrier(world());
  { OutputLock l = prepare_output_dir(world(), d, OutputKind::bench); }
  if (rank() == 0) BOOST_TEST(!fs::exists(d + "/bench.json"));
}

BOOST_AUTO_TEST_CASE(status_records) {
  const std::string d = fresh_dir("records");
  if (rank() == 0) {
    // Another process's lock (a descriptor OutputLock does not know): its directory is not ours
    // to mark.
    const int fd = ::open((d + "/.fpflow.lock").c_str(), O_RDWR | O_CREAT, 0644);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    write_status_record(world(), d, "summary.json", "failed", {{"error", "x"}});
    BOOST_TEST(!fs::exists(d + "/summary.json"));
    ::close(fd);
  }
  MPI_Barrier(world());
  write_status_record(world(), d + "/missing", "summary.json", "failed");
  if (rank() == 0) BOOST_TEST(!fs::exists(d + "/missing"));
  write_status_record(world(), d, "verify.json", "failed", {{"error", "first, detailed"}});
  write_status_record(world(), d, "verify.json", "failed", {{"error", "second"}});
  if (rank() == 0) {
    std::ifstream f(d + "/verify.json");
    const auto j = nlohmann::json::parse(f);
    BOOST_TEST(j["status"] == "failed");
    BOOST_TEST(j["error"] == "first, detailed");
    BOOST_TEST(!fs::exists(d + "/.fpflow.lock"));  // taken for the write, then released
  }
}

// Every write is checked: beyond a file-size limit nothing is left under the real name, and
// no .tmp stays behind (summary.json and VTK pieces alike).
BOOST_AUTO_TEST_CASE(failed_writes_leave_no_file) {
  const std::string d = fresh_dir("full");
  const std::string path = d + "/summary-rank" + std::to_string(rank()) + ".json";
  std::string e;
  {
    FileSizeLimit limit(4096);
    e = error_of([&] { write_file_atomic(path, std::string(100000, 'x')); });
  }
  BOOST_TEST(contains(e, "cannot write " + path + ": File too large"));
  BOOST_TEST(!fs::exists(path));
  BOOST_TEST(!fs::exists(path + ".tmp"));
  write_file_atomic(path, "{}\n");
  BOOST_TEST(fs::file_size(path) == 3u);

  ScopedOptions o("-da_grid_x 64 -da_grid_y 64");
  GridSpec spec;
  spec.dim = 2;
  Grid g(world(), spec);
  std::vector<double> rho(std::size_t(g.owned_cells()), 1.0);
  std::vector<double> vec3(3 * rho.size(), 0.5);
  Frame f;
  f.density = rho.data();
  f.arrays = {{"current", 3, &vec3}};
  VtkSeriesWriter w(g, d, "none");
  w.write(0.0, f);  // fits
  {
    FileSizeLimit limit(8192);  // the 64^2 pieces are larger
    e = error_of([&] { w.write(1.0, f); });
  }
  BOOST_TEST(contains(e, "cannot write " + d + "/frames/fpflow_00001_"));
  MPI_Barrier(world());
  if (rank() == 0) {
    for (const auto& entry : fs::directory_iterator(d + "/frames")) {
      const std::string name = entry.path().filename().string();
      BOOST_TEST(name.find(".tmp") == std::string::npos, name);
      BOOST_TEST(name.rfind("fpflow_00000", 0) == 0, name);  // only the complete first frame
    }
    std::ifstream pvd(d + "/fpflow.pvd");
    const std::string text((std::istreambuf_iterator<char>(pvd)), {});
    BOOST_TEST(contains(text, "fpflow_00000.pvti"));
    BOOST_TEST(!contains(text, "fpflow_00001"));
  }
}

// SIGTERM (simulated on rank 0 only): the run stops at the next step on every rank, writes its
// last state as the final frame and a summary with "status": "interrupted", then throws.
BOOST_AUTO_TEST_CASE(stop_request_interrupts_run) {
  const std::string d = fresh_dir("stop");
  ScopedOptions o("-problem ou -dim 1 -da_grid_x 64 -ts_max_time 5 -progress_seconds -1 -output " +
                  d);
  Simulation sim(world());
  int calls = 0;
  sim.on_step([&](PetscInt step, double, Vec) {
    if (++calls == 3 && rank() == 0) simulate_stop_signal(SIGTERM);
  });
  std::string what;
  try {
    sim.run();
  } catch (const Interrupted& e) {
    what = e.what();
  }
  BOOST_TEST(stop_signal() == SIGTERM);  // every rank adopted rank 0's signal
  BOOST_TEST(stop_exit_code() == 143);
  simulate_stop_signal(0);
  BOOST_TEST(contains(what, "stopped at t = "));
  if (rank() == 0) {
    std::ifstream f(d + "/summary.json");
    const auto j = nlohmann::json::parse(f);
    BOOST_TEST(j["status"] == "interrupted");
    BOOST_TEST(j["signal"] == "SIGTERM");
    BOOST_TEST(j["t_requested"].get<double>() == 5.0);
    BOOST_TEST(j["t_final"].get<double>() < 5.0);
    BOOST_TEST(j["steps"].get<int>() <= 3);
    std::ifstream pvd(d + "/fpflow.pvd");
    const std::string text((std::istreambuf_iterator<char>(pvd)), {});
    char last[64];
    std::snprintf(last, sizeof(last), "timestep=\"%.17g\"", j["t_final"].get<double>());
    BOOST_TEST(contains(text, last), "the last state is the last frame");
  }
}

#include "db/pg_group_commit.h"

#include <vector>

#include "db/pg_pool.h"
#include "db/pg_run_mode.h"

namespace zun::db {

struct GroupCommitter::Writer {
  const Statements* statements = nullptr;
  bool single_statement = false;
  absl::Status result;
  bool done = false;
  absl::CondVar cv;  // signalled when done, or when it comes to lead
};

GroupCommitter::GroupCommitter(PgPool* pool, size_t max_group, bool idempotent)
    : pool_(pool),
      max_group_(max_group < 1 ? 1 : max_group),
      idempotent_(idempotent) {}

absl::Status GroupCommitter::Commit(const Statements& statements,
                                    bool single_statement) {
  Writer w;
  w.statements = &statements;
  w.single_statement = single_statement;
  mu_.Lock();
  queue_.push_back(&w);
  // Wait until a leader committed our statements, or we lead. Each writer
  // waits on a variable of its own: a burst's hundred waiting writers are
  // not each re-examined at every unlock.
  while (!w.done && queue_.front() != &w) w.cv.Wait(&mu_);
  if (w.done) {
    mu_.Unlock();
    return w.result;
  }
  std::vector<Writer*> group;
  for (Writer* x : queue_) {
    group.push_back(x);
    if (group.size() == max_group_) break;
  }
  if (group.size() > 1) {
    ++stats_.groups;
    stats_.grouped_writers += group.size();
  }
  mu_.Unlock();

  RunGroup(group);

  mu_.Lock();
  for (size_t i = 0; i < group.size(); ++i) {
    queue_.pop_front();
    group[i]->done = true;
    group[i]->cv.Signal();  // a follower: its statements are committed
  }
  if (!queue_.empty()) queue_.front()->cv.Signal();  // the next leader
  mu_.Unlock();
  return w.result;
}

void GroupCommitter::RunGroup(const std::vector<Writer*>& group) {
  if (group.size() == 1) {
    group[0]->result = RunAlone(*group[0]);
    return;
  }
  absl::Status s = pool_->Run(
      [&](pqxx::connection& c) {
        Work t(c);
        for (Writer* x : group) (*x->statements)(t);
        t.commit();
        return absl::OkStatus();
      },
      idempotent_);
  if (s.ok() || absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) {
    for (Writer* x : group) x->result = s;
    return;
  }
  // One writer's statements failed the group: each goes alone, so the
  // error reaches its writer and the others commit.
  for (Writer* x : group) x->result = RunAlone(*x);
}

absl::Status GroupCommitter::RunAlone(const Writer& w) {
  if (w.single_statement)
    return pool_->RunStatement(*w.statements, idempotent_);
  return pool_->Run(
      [&](pqxx::connection& c) {
        Work t(c);
        (*w.statements)(t);
        t.commit();
        return absl::OkStatus();
      },
      idempotent_);
}

size_t GroupCommitter::waiting() const {
  absl::MutexLock l(&mu_);
  return queue_.size();
}

GroupCommitter::Stats GroupCommitter::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

}  // namespace zun::db

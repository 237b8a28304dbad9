#include "tools/serve/http_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::serve {
namespace {

const char* Reason(int code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return code < 500 ? "Error" : "Internal Server Error";
  }
}

const char* MethodName(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    default: return "OTHER";
  }
}

// Workers running handler calls, first in first out.
class WorkQueue {
 public:
  explicit WorkQueue(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~WorkQueue() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace

// Where replies are posted: shared with every reply callback, so a reply that comes after
// Stop (a batcher finishing a request the drain gave up on) finds no loop and is dropped.
struct ReplyPoster {
  std::mutex mu;
  event_base* base = nullptr;  // guarded by mu; null once the server stops
};

struct HttpServer::Impl {
  const RestHandler* handler = nullptr;
  std::shared_ptr<ReplyPoster> poster = std::make_shared<ReplyPoster>();
  std::atomic<int64_t>* in_flight = nullptr;
  event_base* base = nullptr;
  evhttp* http = nullptr;
  evhttp_bound_socket* socket = nullptr;
  std::unique_ptr<WorkQueue> workers;
  std::thread loop;
  std::mutex stop_mu;
  bool stopped = false;  // guarded by stop_mu

  // One reply on its way from a worker or batcher to the loop.
  struct Reply {
    Impl* impl;
    evhttp_request* request;
    HttpReply reply;
  };

  static void OnRequest(evhttp_request* request, void* arg) {
    Impl* impl = static_cast<Impl*>(arg);
    ++*impl->in_flight;
    const char* method = MethodName(evhttp_request_get_command(request));
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
    std::string path = raw_path != nullptr ? raw_path : "";
    evbuffer* input = evhttp_request_get_input_buffer(request);
    // Read once; the JSON codec parses this string in place (spare room for its padding).
    std::string body;
    body.reserve(evbuffer_get_length(input) + 3);
    body.resize(evbuffer_get_length(input));
    if (!body.empty()) evbuffer_copyout(input, body.data(), body.size());
    impl->workers->Post([impl, request, method, path = std::move(path),
                         body = std::move(body)]() mutable {
      std::shared_ptr<ReplyPoster> poster = impl->poster;
      impl->handler->Handle(method, path, std::move(body), [impl, poster,
                                                            request](HttpReply reply) {
        // evhttp is touched by the loop thread only: hand the reply over.
        std::lock_guard<std::mutex> lock(poster->mu);
        if (poster->base == nullptr) return;  // stopped
        auto* pending = new Reply{impl, request, std::move(reply)};
        static const timeval kNow = {0, 0};
        if (event_base_once(poster->base, -1, EV_TIMEOUT, &Impl::Send, pending, &kNow) != 0) {
          delete pending;
        }
      });
    });
  }

  static void Send(evutil_socket_t, short, void* arg) {
    std::unique_ptr<Reply> pending(static_cast<Reply*>(arg));
    evhttp_request* request = pending->request;
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", pending->reply.content_type.c_str());
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, pending->reply.body.data(), pending->reply.body.size());
    // A client that went away leaves a detached request, which evhttp frees here.
    evhttp_send_reply(request, pending->reply.code, Reason(pending->reply.code), body);
    evbuffer_free(body);
    --*pending->impl->in_flight;
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const Options& options,
                                                              const RestHandler* handler) {
  static const bool threads_ready = evthread_use_pthreads() == 0;
  if (!threads_ready) return absl::InternalError("libevent has no pthreads support");
  auto impl = std::make_unique<Impl>();
  impl->handler = handler;
  impl->base = event_base_new();
  impl->http = impl->base != nullptr ? evhttp_new(impl->base) : nullptr;
  if (impl->http == nullptr) return absl::InternalError("cannot create an event loop");
  evhttp_set_max_body_size(impl->http, options.max_body_bytes);
  // Headers are small for this API; a client sending megabytes of them is refused.
  evhttp_set_max_headers_size(impl->http, 64 << 10);
  evhttp_set_timeout(impl->http, options.timeout_seconds);
  evhttp_set_allowed_methods(impl->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
  evhttp_set_gencb(impl->http, &Impl::OnRequest, impl.get());
  impl->socket = evhttp_bind_socket_with_handle(impl->http, options.address.c_str(),
                                                static_cast<uint16_t>(options.port));
  if (impl->socket == nullptr) {
    evhttp_free(impl->http);
    event_base_free(impl->base);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address, ":", options.port));
  }
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  int port = options.port;
  if (getsockname(evhttp_bound_socket_get_fd(impl->socket),
                  reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    if (address.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    } else if (address.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  server->port_ = port;
  Impl* raw = server->impl_.get();
  raw->in_flight = &server->in_flight_;
  raw->poster->base = raw->base;
  raw->workers = std::make_unique<WorkQueue>(std::max(1, options.workers));
  raw->loop = std::thread([raw] { event_base_loop(raw->base, EVLOOP_NO_EXIT_ON_EMPTY); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::StopAccepting() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped || impl_->socket == nullptr) return;
  // On the loop thread, which owns the listener.
  struct Args {
    Impl* impl;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  } args{impl_.get()};
  static const timeval kNow = {0, 0};
  event_base_once(
      impl_->base, -1, EV_TIMEOUT,
      [](evutil_socket_t, short, void* arg) {
        Args* a = static_cast<Args*>(arg);
        evhttp_del_accept_socket(a->impl->http, a->impl->socket);
        std::lock_guard<std::mutex> lock(a->mu);
        a->done = true;
        a->cv.notify_all();
      },
      &args, &kNow);
  std::unique_lock<std::mutex> wait(args.mu);
  args.cv.wait(wait, [&] { return args.done; });
  impl_->socket = nullptr;
}

void HttpServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Workers first, then no reply may be posted to the loop any more.
  impl_->workers.reset();
  {
    std::lock_guard<std::mutex> lock(impl_->poster->mu);
    impl_->poster->base = nullptr;
  }
  event_base_loopbreak(impl_->base);
  impl_->loop.join();
  evhttp_free(impl_->http);
  event_base_free(impl_->base);
}

}  // namespace kiln::serve

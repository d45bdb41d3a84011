struct Pool;

impl Pool {
    #[graceful::resource(priority = 10)]
    fn reopen(&self) -> Pool {
        Pool
    }
}

fn main() {}

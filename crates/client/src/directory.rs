//! The session and the directory: login/logout/me, users, teams, roles, phones and the
//! recording rules (all admin routes except the session ones).

use crate::{Client, Result};
use callrec_types::directory::{NewUser, Person, Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User, UserPatch};
use callrec_types::rules::{Rule, RuleEnabledInput, RuleInput, RuleMove, RuleMoveInput};
use callrec_types::wire::{LoginRequest, LoginResponse};
use callrec_types::{PhoneId, RoleId, RuleId, TeamId, UserId};
use reqwest::Method;

impl Client {
    /// `POST /api/v1/session`: logs in, keeps the token for the following calls and returns
    /// the whole response. A wrong password is `401 bad_credentials`.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<LoginResponse> {
        let request = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        let response: LoginResponse = self.send_body(Method::POST, "/api/v1/session", &request).await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    /// `DELETE /api/v1/session`: ends the session on the server and forgets the token.
    pub async fn logout(&mut self) -> Result<()> {
        self.delete_path("/api/v1/session").await?;
        self.token = None;
        Ok(())
    }

    /// `GET /api/v1/me`: the logged-in user.
    pub async fn me(&self) -> Result<User> {
        self.get_json("/api/v1/me").await
    }

    /// `GET /api/v1/me/team`: the people in the logged-in user's scope, themselves included
    /// (everybody for an admin, a supervisor's teams' members, an agent alone).
    pub async fn my_team(&self) -> Result<Vec<Person>> {
        self.get_json("/api/v1/me/team").await
    }

    // ----- users -----

    /// `GET /api/v1/users`.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.get_json("/api/v1/users").await
    }

    /// `POST /api/v1/users`.
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        self.send_body(Method::POST, "/api/v1/users", user).await
    }

    /// `GET /api/v1/users/{id}`.
    pub async fn get_user(&self, id: UserId) -> Result<User> {
        self.get_json(&format!("/api/v1/users/{id}")).await
    }

    /// `PATCH /api/v1/users/{id}`: only the fields set in `patch` change.
    pub async fn update_user(&self, id: UserId, patch: &UserPatch) -> Result<User> {
        self.send_body(Method::PATCH, &format!("/api/v1/users/{id}"), patch)
            .await
    }

    /// `DELETE /api/v1/users/{id}`.
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        self.delete_path(&format!("/api/v1/users/{id}")).await
    }

    // ----- teams -----

    /// `GET /api/v1/teams`.
    pub async fn list_teams(&self) -> Result<Vec<Team>> {
        self.get_json("/api/v1/teams").await
    }

    /// `POST /api/v1/teams`.
    pub async fn create_team(&self, team: &TeamInput) -> Result<Team> {
        self.send_body(Method::POST, "/api/v1/teams", team).await
    }

    /// `GET /api/v1/teams/{id}`.
    pub async fn get_team(&self, id: TeamId) -> Result<Team> {
        self.get_json(&format!("/api/v1/teams/{id}")).await
    }

    /// `PUT /api/v1/teams/{id}`: replaces the team.
    pub async fn update_team(&self, id: TeamId, team: &TeamInput) -> Result<Team> {
        self.send_body(Method::PUT, &format!("/api/v1/teams/{id}"), team).await
    }

    /// `DELETE /api/v1/teams/{id}`.
    pub async fn delete_team(&self, id: TeamId) -> Result<()> {
        self.delete_path(&format!("/api/v1/teams/{id}")).await
    }

    // ----- roles -----

    /// `GET /api/v1/roles`.
    pub async fn list_roles(&self) -> Result<Vec<Role>> {
        self.get_json("/api/v1/roles").await
    }

    /// `POST /api/v1/roles`.
    pub async fn create_role(&self, role: &RoleInput) -> Result<Role> {
        self.send_body(Method::POST, "/api/v1/roles", role).await
    }

    /// `GET /api/v1/roles/{id}`.
    pub async fn get_role(&self, id: RoleId) -> Result<Role> {
        self.get_json(&format!("/api/v1/roles/{id}")).await
    }

    /// `PUT /api/v1/roles/{id}`: replaces the role.
    pub async fn update_role(&self, id: RoleId, role: &RoleInput) -> Result<Role> {
        self.send_body(Method::PUT, &format!("/api/v1/roles/{id}"), role).await
    }

    /// `DELETE /api/v1/roles/{id}`.
    pub async fn delete_role(&self, id: RoleId) -> Result<()> {
        self.delete_path(&format!("/api/v1/roles/{id}")).await
    }

    // ----- phones -----

    /// `GET /api/v1/phones`.
    pub async fn list_phones(&self) -> Result<Vec<Phone>> {
        self.get_json("/api/v1/phones").await
    }

    /// `POST /api/v1/phones`.
    pub async fn create_phone(&self, phone: &PhoneInput) -> Result<Phone> {
        self.send_body(Method::POST, "/api/v1/phones", phone).await
    }

    /// `GET /api/v1/phones/{id}`.
    pub async fn get_phone(&self, id: PhoneId) -> Result<Phone> {
        self.get_json(&format!("/api/v1/phones/{id}")).await
    }

    /// `PUT /api/v1/phones/{id}`: replaces the phone.
    pub async fn update_phone(&self, id: PhoneId, phone: &PhoneInput) -> Result<Phone> {
        self.send_body(Method::PUT, &format!("/api/v1/phones/{id}"), phone)
            .await
    }

    /// `DELETE /api/v1/phones/{id}`.
    pub async fn delete_phone(&self, id: PhoneId) -> Result<()> {
        self.delete_path(&format!("/api/v1/phones/{id}")).await
    }

    // ----- rules -----

    /// `GET /api/v1/rules`, in evaluation order.
    pub async fn list_rules(&self) -> Result<Vec<Rule>> {
        self.get_json("/api/v1/rules").await
    }

    /// `POST /api/v1/rules`; without a `position` the rule is appended.
    pub async fn create_rule(&self, rule: &RuleInput) -> Result<Rule> {
        self.send_body(Method::POST, "/api/v1/rules", rule).await
    }

    /// `GET /api/v1/rules/{id}`.
    pub async fn get_rule(&self, id: RuleId) -> Result<Rule> {
        self.get_json(&format!("/api/v1/rules/{id}")).await
    }

    /// `PUT /api/v1/rules/{id}`: replaces the rule.
    pub async fn update_rule(&self, id: RuleId, rule: &RuleInput) -> Result<Rule> {
        self.send_body(Method::PUT, &format!("/api/v1/rules/{id}"), rule).await
    }

    /// `PUT /api/v1/rules/{id}/enabled`: switches one rule on or off, nothing else changing.
    pub async fn set_rule_enabled(&self, id: RuleId, enabled: bool) -> Result<Rule> {
        self.send_body(
            Method::PUT,
            &format!("/api/v1/rules/{id}/enabled"),
            &RuleEnabledInput { enabled },
        )
        .await
    }

    /// `POST /api/v1/rules/{id}/move`: one place up or down, in one transaction on the
    /// server; the whole list in its new order.
    pub async fn move_rule(&self, id: RuleId, to: RuleMove) -> Result<Vec<Rule>> {
        self.send_body(Method::POST, &format!("/api/v1/rules/{id}/move"), &RuleMoveInput { to })
            .await
    }

    /// `DELETE /api/v1/rules/{id}`.
    pub async fn delete_rule(&self, id: RuleId) -> Result<()> {
        self.delete_path(&format!("/api/v1/rules/{id}")).await
    }
}

#[cfg(test)]
mod tests {
    use crate::test_server::{serve, Canned};
    use crate::ClientError;
    use callrec_types::UserId;

    const USER: &str = r#"{"id":1,"username":"admin","display_name":"Admin","level":"admin","extensions":["201"]}"#;

    #[tokio::test]
    async fn login_keeps_the_token_for_the_next_calls_and_logout_forgets_it() {
        let login = format!(r#"{{"token":"tok-1","user":{USER},"expires_at":"2030-01-01T00:00:00Z"}}"#);
        let (mut client, server) = serve(vec![
            Canned::json(200, &login),
            Canned::json(200, USER),
            Canned::empty(204),
        ])
        .await;
        let response = client.login("admin", "pw").await.expect("login succeeds");
        assert_eq!(response.token, "tok-1");
        assert_eq!(client.token(), Some("tok-1"), "the client keeps the token");
        let me = client.me().await.expect("me succeeds");
        assert_eq!(me.id, UserId(1));
        client.logout().await.expect("a 204 logout is fine");
        assert_eq!(client.token(), None, "logout forgets the token");

        let requests = server.await.expect("server ran");
        assert_eq!(requests[0].request_line(), "POST /api/v1/session HTTP/1.1");
        assert_eq!(requests[0].header("authorization"), None, "login is anonymous");
        let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("login body is JSON");
        assert_eq!(sent, serde_json::json!({"username": "admin", "password": "pw"}));
        assert_eq!(requests[1].request_line(), "GET /api/v1/me HTTP/1.1");
        assert_eq!(requests[1].header("authorization"), Some("Bearer tok-1"));
        assert_eq!(requests[2].request_line(), "DELETE /api/v1/session HTTP/1.1");
    }

    #[tokio::test]
    async fn server_errors_decode_to_their_code() {
        let (mut client, server) = serve(vec![
            Canned::json(401, r#"{"code":"bad_credentials","message":"wrong"}"#),
            Canned::text(502, "<html>Bad Gateway</html>"),
            Canned::json(200, "[{\"not\":\"a user\"}]"),
        ])
        .await;
        let err = client.login("admin", "nope").await.expect_err("401 is an error");
        assert_eq!(err.code(), Some(callrec_types::wire::ErrorCode::BadCredentials));
        assert_eq!(err.status(), Some(401));
        assert_eq!(client.token(), None, "a failed login leaves no token");

        let err = client.list_users().await.expect_err("502 is an error");
        assert_eq!(
            err.code(),
            Some(callrec_types::wire::ErrorCode::Unknown),
            "a non-JSON error body has no code"
        );
        assert_eq!(err.status(), Some(502), "but it has the status");
        assert!(err.to_string().contains("Bad Gateway"), "message is the body: {err}");

        let err = client.get_user(UserId(2)).await.expect_err("wrong shape");
        assert!(matches!(err, ClientError::Decode { status: 200, .. }), "got {err:?}");
        let requests = server.await.expect("server ran");
        assert_eq!(requests[2].request_line(), "GET /api/v1/users/2 HTTP/1.1");
    }
}
